package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Containers#list}: parameters (services/api/lib/load_param.rb), the list envelope
 * (application_controller.rb object_list) and lazy paging.
 */
class ListPagingTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String LIST = "/arvados/v1/containers";

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static List<String> uuids(int from, int to) {
    return IntStream.range(from, to)
        .mapToObj(i -> String.format("zzzzz-dz642-%015d", i))
        .collect(Collectors.toList());
  }

  private void stubPage(long offset, long limit, @Nullable Long available, List<String> uuids) {
    wm.stubFor(
        get(urlPathEqualTo(LIST))
            .withQueryParam("offset", equalTo(Long.toString(offset)))
            .willReturn(okJson(Fixtures.listPage(offset, limit, available, uuids))));
  }

  private List<LoggedRequest> listRequests() {
    return allRequests();
  }

  private static String param(LoggedRequest r, String name) {
    return r.queryParameter(name).isPresent() ? r.queryParameter(name).firstValue() : null;
  }

  @Test
  void list_sendsFiltersOrderLimitOffsetAndExactCount() {
    stubPage(0, 2, 1L, uuids(0, 1));
    ContainerQuery q =
        ContainerQuery.builder()
            .filter("state", "=", ContainerState.QUEUED)
            .filter("priority", ">", 0)
            .filter("uuid", "not in", List.of("zzzzz-dz642-000000000000009"))
            .order("priority desc")
            .pageSize(2)
            .build();

    List<Container> got = containers().list(q).collect(Collectors.toList());

    assertThat(got).extracting(Container::uuid).containsExactlyElementsOf(uuids(0, 1));
    LoggedRequest r = listRequests().get(0);
    assertThat(r.getMethod().getName()).isEqualTo("GET");
    assertThat(r.getHeader("Authorization")).isEqualTo("Bearer " + Fixtures.DISPATCHER_TOKEN);
    assertThat(r.getHeader("X-Request-Id")).matches(Fixtures.REQUEST_ID);
    assertThat(JsonParser.parseString(param(r, "filters")))
        .isEqualTo(
            JsonParser.parseString(
                "[[\"state\",\"=\",\"Queued\"],[\"priority\",\">\",0],[\"uuid\",\"not in\",[\"zzzzz-dz642-000000000000009\"]]]"));
    assertThat(JsonParser.parseString(param(r, "order")))
        .isEqualTo(JsonParser.parseString("[\"priority desc\",\"uuid asc\"]"));
    assertThat(param(r, "limit")).isEqualTo("2");
    assertThat(param(r, "offset")).isEqualTo("0");
    assertThat(param(r, "count")).isEqualTo("exact");
    assertThat(param(r, "select")).isNull();
  }

  @Test
  void listAll_sendsEmptyFiltersAndAUuidOrder() {
    stubPage(0, 100, 0L, List.of());

    assertThat(containers().list(ContainerQuery.all())).isEmpty();

    LoggedRequest r = listRequests().get(0);
    assertThat(param(r, "filters")).isEqualTo("[]");
    assertThat(param(r, "order")).isEqualTo("[\"uuid asc\"]");
    assertThat(param(r, "limit")).isEqualTo("100");
  }

  @Test
  void list_doesNotAppendUuidOrderWhenTheQueryOrdersByUuid() {
    stubPage(0, 100, 0L, List.of());
    assertThat(containers().list(ContainerQuery.builder().order("uuid desc").build())).isEmpty();
    assertThat(param(listRequests().get(0), "order")).isEqualTo("[\"uuid desc\"]");
  }

  @Test
  void list_withSelect_asksForTheFieldsPlusUuid() {
    stubPage(0, 100, 1L, uuids(0, 1));
    List<Container> got =
        containers()
            .list(ContainerQuery.builder().select("state", "priority").build())
            .collect(Collectors.toList());
    assertThat(param(listRequests().get(0), "select"))
        .isEqualTo("[\"uuid\",\"state\",\"priority\"]");
    assertThat(got).hasSize(1);
  }

  @Test
  void list_requestsTheNextPageOnlyWhenTheStreamReachesIt() {
    stubPage(0, 2, 5L, uuids(0, 2));
    stubPage(2, 2, null, uuids(2, 4));
    stubPage(4, 2, null, uuids(4, 5));
    ContainerQuery q = ContainerQuery.builder().pageSize(2).build();

    Iterator<Container> it = containers().list(q).iterator();
    assertThat(requestCount()).as("creating the stream makes no request").isZero();

    assertThat(it.next().uuid()).isEqualTo(uuids(0, 1).get(0));
    assertThat(requestCount()).isEqualTo(1);
    assertThat(it.next().uuid()).isEqualTo(uuids(1, 2).get(0));
    assertThat(requestCount())
        .as("no request until the stream asks past the first page")
        .isEqualTo(1);

    assertThat(it.hasNext()).isTrue();
    assertThat(requestCount()).isEqualTo(2);
    List<String> rest = new ArrayList<>();
    it.forEachRemaining(c -> rest.add(c.uuid()));
    assertThat(rest).containsExactlyElementsOf(uuids(2, 5));
    assertThat(requestCount())
        .as("offset 5 reached items_available: no fourth request")
        .isEqualTo(3);

    List<LoggedRequest> rs = listRequests();
    assertThat(rs).extracting(r -> param(r, "offset")).containsExactly("0", "2", "4");
    assertThat(rs).extracting(r -> param(r, "count")).containsExactly("exact", "none", "none");
    assertThat(rs).extracting(r -> param(r, "limit")).containsExactly("2", "2", "2");
    assertThat(rs).extracting(r -> r.getHeader("X-Request-Id")).doesNotHaveDuplicates();
  }

  @Test
  void list_limitCapsTheItemsAndTheLastPageRequest() {
    stubPage(0, 2, 10L, uuids(0, 2));
    stubPage(2, 1, null, uuids(2, 3));

    List<Container> got =
        containers()
            .list(ContainerQuery.builder().pageSize(2).limit(3).build())
            .collect(Collectors.toList());

    assertThat(got).extracting(Container::uuid).containsExactlyElementsOf(uuids(0, 3));
    assertThat(listRequests()).extracting(r -> param(r, "limit")).containsExactly("2", "1");
    assertThat(listRequests()).extracting(r -> param(r, "offset")).containsExactly("0", "2");
  }

  @Test
  void list_streamShortCircuit_requestsNoFurtherPage() {
    stubPage(0, 2, 10L, uuids(0, 2));
    stubPage(2, 2, null, uuids(2, 4));

    List<Container> first =
        containers()
            .list(ContainerQuery.builder().pageSize(2).build())
            .limit(2)
            .collect(Collectors.toList());

    assertThat(first).hasSize(2);
    assertThat(requestCount()).isEqualTo(1);
  }

  @Test
  void list_whenTheServerReturnsFewerThanAsked_continuesFromWhatItGot() {
    // MaxItemsPerResponse (services/api/lib/load_param.rb, load_limit_offset_order_params) may
    // cut a page short; the next offset follows the items received.
    stubPage(0, 1, 3L, uuids(0, 1));
    stubPage(1, 1, null, uuids(1, 2));
    stubPage(2, 1, null, uuids(2, 3));

    List<Container> got =
        containers()
            .list(ContainerQuery.builder().pageSize(1000).build())
            .collect(Collectors.toList());

    assertThat(got).extracting(Container::uuid).containsExactlyElementsOf(uuids(0, 3));
    assertThat(listRequests()).extracting(r -> param(r, "offset")).containsExactly("0", "1", "2");
  }

  @Test
  void list_withoutItemsAvailable_stopsAtTheFirstEmptyPage() {
    // A federated listing omits items_available (lib/controller/federation/list.go requires
    // count=none).
    stubPage(0, 2, null, uuids(0, 2));
    stubPage(2, 2, null, List.of());

    assertThat(containers().list(ContainerQuery.builder().pageSize(2).build()).count())
        .isEqualTo(2);
    assertThat(requestCount()).isEqualTo(2);
  }

  @Test
  void list_failingPage_throwsFromTheStreamOperationThatReachesIt() {
    stubPage(0, 2, 4L, uuids(0, 2));
    wm.stubFor(
        get(urlPathEqualTo(LIST))
            .withQueryParam("offset", equalTo("2"))
            .willReturn(
                aResponse()
                    .withStatus(403)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        Fixtures.envelope(
                            "#<ArvadosModel::PermissionDeniedError: ArvadosModel::PermissionDeniedError>"))));

    Iterator<Container> it =
        containers().list(ContainerQuery.builder().pageSize(2).build()).iterator();
    it.next();
    it.next();
    assertThatThrownBy(it::hasNext)
        .isInstanceOf(PermissionDeniedException.class)
        .satisfies(e -> assertThat(((ArvadosServiceException) e).status()).isEqualTo(403));
  }

  @Test
  void list_inOperatorWithStates_sendsWireNames() {
    stubPage(0, 100, 0L, List.of());
    assertThat(
            containers()
                .list(
                    ContainerQuery.builder()
                        .filter(
                            "state", "in", List.of(ContainerState.LOCKED, ContainerState.RUNNING))
                        .build()))
        .isEmpty();
    assertThat(param(listRequests().get(0), "filters"))
        .isEqualTo("[[\"state\",\"in\",[\"Locked\",\"Running\"]]]");
  }

  @Test
  void list_envelopeWithoutItems_isMalformed() {
    wm.stubFor(
        get(urlPathEqualTo(LIST))
            .willReturn(okJson("{\"kind\":\"arvados#containerList\",\"items_available\":3}")));
    assertThatThrownBy(() -> containers().list(ContainerQuery.all()).count())
        .isInstanceOf(MalformedResponseException.class)
        .hasMessageContaining("items");
  }

  @Test
  void list_itemThatIsNotAnObject_isMalformed() {
    wm.stubFor(
        get(urlPathEqualTo(LIST))
            .willReturn(
                okJson("{\"items\":[\"zzzzz-dz642-000000000000001\"],\"items_available\":1}")));
    assertThatThrownBy(() -> containers().list(ContainerQuery.all()).count())
        .isInstanceOf(MalformedResponseException.class);
  }

  @Test
  void list_nullQuery_isRejectedWithoutRequest() {
    assertThatThrownBy(() -> containers().list(null)).isInstanceOf(NullPointerException.class);
    assertThat(requestCount()).isZero();
  }
}
