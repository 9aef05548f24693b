package dev.crunchguard;

import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * The compact forms a decoded record keeps: immutable lists and maps over one exactly sized array
 * (instead of an {@code ArrayList} or a {@code LinkedHashMap} with its table and entries behind an
 * unmodifiable wrapper), and two small bounded caches through which records share what they repeat:
 * strings (map keys, user and owner uuids, image hashes, short values) and small lists and maps
 * (the defaults of {@code runtime_constraints} and {@code scheduling_parameters}, scopes, storage
 * classes). A dispatcher keeps the listed record of every container it tracks, so these are what
 * its heap per tracked container is made of. The caches cost a fixed 20 KB per JVM (two arrays,
 * 4,096 and 1,024 slots) and keep at most that many values alive.
 *
 * <p>The lists and maps behave as the unmodifiable {@code ArrayList} and {@code LinkedHashMap} they
 * replace: document order, null elements and values allowed, {@link List#equals}/{@link
 * Map#equals}, {@code hashCode} and {@code toString} as their interfaces and {@code AbstractList}/
 * {@code AbstractMap} define them, every mutator throwing {@link UnsupportedOperationException}.
 */
final class Compact {
  private Compact() {}

  /** Maps larger than this keep a hash table (a linear look-up would be slow). */
  static final int MAX_ARRAY_MAP = 16;

  /** Longer strings are kept as they are: long values rarely repeat. */
  static final int MAX_SHARED_LENGTH = 96;

  private static final int SLOTS = 1 << 12;

  /**
   * A direct-mapped cache: a string's slot is given by its hash, and a string that hashes to a
   * taken slot replaces the one there. Bounded (at most {@link #SLOTS} strings are kept alive by
   * it), lock-free, and racy by design: a lost write only loses a chance to share. Strings are
   * immutable with final fields, so a reader sees a whole string or none.
   */
  private static final @Nullable String[] SHARED = new String[SLOTS];

  /** The equal string seen most recently in this string's slot, else the string itself. */
  static @Nullable String share(@Nullable String s) {
    if (s == null || s.length() > MAX_SHARED_LENGTH) {
      return s;
    }
    if (s.isEmpty()) {
      return "";
    }
    int h = s.hashCode();
    int i = (h ^ (h >>> 16)) & (SLOTS - 1);
    String seen = SHARED[i];
    if (seen != null && seen.equals(s)) {
      return seen;
    }
    SHARED[i] = s;
    return s;
  }

  /**
   * Shares the values of a decoded record that records commonly repeat (kind, owner and user uuids,
   * the dispatcher's own token uuid, image, working directory, output path), and one timestamp
   * object when {@code modified_at} equals {@code created_at}. The uuids of the container, its
   * epoch and its outputs and the etag are unique, and kept as they are (they would only push the
   * shared values out of the cache).
   */
  static void shareValues(ContainerDecoder.Fields f) {
    f.kind = share(f.kind);
    f.ownerUuid = share(f.ownerUuid);
    f.modifiedByUserUuid = share(f.modifiedByUserUuid);
    f.containerImage = share(f.containerImage);
    f.cwd = share(f.cwd);
    f.lockedByUuid = share(f.lockedByUuid);
    f.outputPath = share(f.outputPath);
    f.runtimeUserUuid = share(f.runtimeUserUuid);
    if (f.modifiedAt != null && f.modifiedAt.equals(f.createdAt)) {
      f.modifiedAt = f.createdAt;
    }
  }

  private static final Double ZERO = 0.0;

  /** {@code 0.0} as one shared box (costs and progress are mostly zero); any other as is. */
  static Double number(double d) {
    return Double.doubleToRawLongBits(d) == 0L ? ZERO : Double.valueOf(d);
  }

  /** The first {@code n} elements as an immutable list. */
  static <E> List<E> list(@Nullable Object[] elements, int n) {
    if (n == 0) {
      return List.of();
    }
    List<E> list = new ArrayBackedList<>(Arrays.copyOf(elements, n));
    return n <= MAX_ARRAY_MAP ? shareValue(list) : list;
  }

  /**
   * An immutable map of the first {@code n} key/value pairs of {@code kv} (key at {@code 2i}, value
   * at {@code 2i + 1}), in order; when a key repeats, the last value wins at the key's first
   * position, as {@code LinkedHashMap.put} would have it. An equal map seen before may be returned
   * instead (see {@link #SHARED_VALUES}).
   */
  static <V> Map<String, V> map(@Nullable Object[] kv, int n) {
    return map(kv, n, true);
  }

  /**
   * As {@link #map(Object[], int)}, never shared: for values that may be confidential (a
   * container's environment), which the cache would otherwise keep alive after their record.
   */
  static <V> Map<String, V> privateMap(@Nullable Object[] kv, int n) {
    return map(kv, n, false);
  }

  private static <V> Map<String, V> map(@Nullable Object[] kv, int n, boolean share) {
    if (n == 0) {
      return Map.of();
    }
    if (n > MAX_ARRAY_MAP) {
      Map<String, @Nullable Object> m = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        m.put((String) kv[2 * i], kv[2 * i + 1]);
      }
      @SuppressWarnings("unchecked")
      Map<String, V> out = (Map<String, V>) Collections.unmodifiableMap(m);
      return out;
    }
    @Nullable Object[] a = new Object[2 * n];
    int size = 0;
    for (int i = 0; i < n; i++) {
      Object key = Objects.requireNonNull(kv[2 * i]);
      int at = indexOf(a, size, key);
      if (at >= 0) {
        a[2 * at + 1] = kv[2 * i + 1];
      } else {
        a[2 * size] = key;
        a[2 * size + 1] = kv[2 * i + 1];
        size++;
      }
    }
    Map<String, V> m = new ArrayMap<>(size == n ? a : Arrays.copyOf(a, 2 * size));
    return share ? shareValue(m) : m;
  }

  private static final int VALUE_SLOTS = 1 << 10;

  /**
   * The same kind of cache for small lists and maps (free-form maps such as {@code
   * runtime_constraints} and {@code scheduling_parameters}, with their nested defaults, repeat from
   * record to record): an equal value already seen in the slot is returned instead. Equal here
   * means the same elements, keys and values in the same order, of the same classes, nested lists
   * and maps being the very same (already shared) objects; so a shared value is in every observable
   * respect the one it replaces, and a miss only loses a chance to share.
   */
  private static final @Nullable Object[] SHARED_VALUES = new Object[VALUE_SLOTS];

  private static <T> T shareValue(T v) {
    @Nullable Object[] a =
        v instanceof ArrayMap ? ((ArrayMap<?>) v).kv : ((ArrayBackedList<?>) v).elements;
    int h = v.getClass().hashCode();
    for (Object x : a) {
      if (x == null) {
        h = 31 * h;
      } else if (x instanceof String
          || x instanceof Long
          || x instanceof Double
          || x instanceof Boolean) {
        h = 31 * h + x.hashCode();
      } else {
        h = 31 * h + System.identityHashCode(x);
      }
    }
    int i = (h ^ (h >>> 16)) & (VALUE_SLOTS - 1);
    Object seen = SHARED_VALUES[i];
    if (seen != null && seen.getClass() == v.getClass()) {
      @Nullable Object[] b =
          seen instanceof ArrayMap ? ((ArrayMap<?>) seen).kv : ((ArrayBackedList<?>) seen).elements;
      if (sameElements(a, b)) {
        @SuppressWarnings("unchecked")
        T shared = (T) seen;
        return shared;
      }
    }
    SHARED_VALUES[i] = v;
    return v;
  }

  private static boolean sameElements(@Nullable Object[] a, @Nullable Object[] b) {
    if (a.length != b.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      Object x = a[i];
      Object y = b[i];
      if (x == y) {
        continue;
      }
      if (x == null || y == null || x.getClass() != y.getClass()) {
        return false;
      }
      boolean scalar =
          x instanceof String || x instanceof Long || x instanceof Double || x instanceof Boolean;
      if (!scalar || !x.equals(y)) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(@Nullable Object[] kv, int size, Object key) {
    for (int i = 0; i < size; i++) {
      if (key.equals(kv[2 * i])) {
        return i;
      }
    }
    return -1;
  }

  /** An immutable list over an exactly sized array. */
  static final class ArrayBackedList<E> extends AbstractList<E> implements RandomAccess {
    private final @Nullable Object[] elements;

    ArrayBackedList(@Nullable Object[] elements) {
      this.elements = elements;
    }

    @Override
    @SuppressWarnings("unchecked")
    public E get(int index) {
      return (E) elements[index];
    }

    @Override
    public int size() {
      return elements.length;
    }

    // Every mutator refuses, even when it would change nothing (AbstractList lets some pass).

    @Override
    public boolean add(E e) {
      throw unmodifiable();
    }

    @Override
    public boolean remove(@Nullable Object o) {
      throw unmodifiable();
    }

    @Override
    public boolean addAll(Collection<? extends E> c) {
      throw unmodifiable();
    }

    @Override
    public boolean addAll(int index, Collection<? extends E> c) {
      throw unmodifiable();
    }

    @Override
    public boolean removeAll(Collection<?> c) {
      throw unmodifiable();
    }

    @Override
    public boolean retainAll(Collection<?> c) {
      throw unmodifiable();
    }

    @Override
    public boolean removeIf(Predicate<? super E> filter) {
      throw unmodifiable();
    }

    @Override
    public void replaceAll(UnaryOperator<E> operator) {
      throw unmodifiable();
    }

    @Override
    public void sort(@Nullable Comparator<? super E> c) {
      throw unmodifiable();
    }

    @Override
    public void clear() {
      throw unmodifiable();
    }

    @Override
    public List<E> subList(int fromIndex, int toIndex) {
      return Collections.unmodifiableList(super.subList(fromIndex, toIndex));
    }
  }

  private static UnsupportedOperationException unmodifiable() {
    return new UnsupportedOperationException("a decoded record is immutable");
  }

  /** An immutable map over one array of alternating keys and values, in document order. */
  static final class ArrayMap<V> extends AbstractMap<String, V> {
    private final @Nullable Object[] kv;

    ArrayMap(@Nullable Object[] kv) {
      this.kv = kv;
    }

    @Override
    public int size() {
      return kv.length / 2;
    }

    @Override
    public boolean containsKey(@Nullable Object key) {
      return key != null && indexOf(kv, size(), key) >= 0;
    }

    @Override
    @SuppressWarnings("unchecked")
    public @Nullable V get(@Nullable Object key) {
      int i = key == null ? -1 : indexOf(kv, size(), key);
      return i < 0 ? null : (V) kv[2 * i + 1];
    }

    // Every mutator refuses, even when it would change nothing (AbstractMap lets some pass); the
    // views are unmodifiable too.

    @Override
    public @Nullable V put(String key, V value) {
      throw unmodifiable();
    }

    @Override
    public @Nullable V remove(@Nullable Object key) {
      throw unmodifiable();
    }

    @Override
    public void putAll(Map<? extends String, ? extends V> m) {
      throw unmodifiable();
    }

    @Override
    public void clear() {
      throw unmodifiable();
    }

    @Override
    public void replaceAll(BiFunction<? super String, ? super V, ? extends V> function) {
      throw unmodifiable();
    }

    @Override
    public @Nullable V putIfAbsent(String key, V value) {
      throw unmodifiable();
    }

    @Override
    public boolean remove(@Nullable Object key, @Nullable Object value) {
      throw unmodifiable();
    }

    @Override
    public boolean replace(String key, V oldValue, V newValue) {
      throw unmodifiable();
    }

    @Override
    public @Nullable V replace(String key, V value) {
      throw unmodifiable();
    }

    @Override
    public V computeIfAbsent(String key, Function<? super String, ? extends V> f) {
      throw unmodifiable();
    }

    @Override
    public V computeIfPresent(String key, BiFunction<? super String, ? super V, ? extends V> f) {
      throw unmodifiable();
    }

    @Override
    public V compute(String key, BiFunction<? super String, ? super @Nullable V, ? extends V> f) {
      throw unmodifiable();
    }

    @Override
    public V merge(String key, V value, BiFunction<? super V, ? super V, ? extends V> f) {
      throw unmodifiable();
    }

    @Override
    public Set<String> keySet() {
      return Collections.unmodifiableSet(super.keySet());
    }

    @Override
    public Collection<V> values() {
      return Collections.unmodifiableCollection(super.values());
    }

    @Override
    public Set<Map.Entry<String, V>> entrySet() {
      return Collections.unmodifiableSet(new Entries());
    }

    private final class Entries extends AbstractSet<Map.Entry<String, V>> {
      @Override
      public int size() {
        return ArrayMap.this.size();
      }

      @Override
      public Iterator<Map.Entry<String, V>> iterator() {
        return new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < kv.length;
          }

          @Override
          @SuppressWarnings("unchecked")
          public Map.Entry<String, V> next() {
            if (next >= kv.length) {
              throw new NoSuchElementException();
            }
            Map.Entry<String, V> e =
                new AbstractMap.SimpleImmutableEntry<>((String) kv[next], (V) kv[next + 1]);
            next += 2;
            return e;
          }
        };
      }
    }
  }
}
