package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A record re-homed under the caller's uuid string ({@link Container#withUuidOf}) reads exactly as
 * the record it copies, whether that was a 5-field lock answer (kept without its body) or a whole
 * answer copied before or after its lazy decoding.
 */
class ContainerCopyTest {
  private static final String UUID = "zzzzz-dz642-copiedrecord01";

  private static final String LOCK_ANSWER =
      "{\"uuid\":\""
          + UUID
          + "\",\"state\":\"Locked\",\"priority\":986,"
          + "\"auth_uuid\":\"zzzzz-gj3su-lx78hhl02yyuy8c\","
          + "\"locked_by_uuid\":\"zzzzz-gj3su-jgzdntkon3x3olt\"}";

  private static final String WHOLE =
      "{\"kind\":\"arvados#container\",\"etag\":\"e1\",\"uuid\":\""
          + UUID
          + "\",\"owner_uuid\":\"zzzzz-tpzed-000000000000000\","
          + "\"created_at\":\"2026-12-01T15:29:57.085410000Z\","
          + "\"modified_at\":\"2026-12-01T15:29:57.085410000Z\",\"command\":[\"echo\",\"hello\"],"
          + "\"container_image\":\"test\",\"cwd\":\".\",\"environment\":{},\"exit_code\":null,"
          + "\"mounts\":{},\"output_path\":\"test\",\"output_glob\":[],\"priority\":848,"
          + "\"runtime_constraints\":{\"API\":false,\"gpu\":{\"device_count\":0,\"stack\":\"\","
          + "\"hardware_target\":[]},\"ram\":268435456,\"vcpus\":1},"
          + "\"scheduling_parameters\":{\"partitions\":[],\"preemptible\":false},"
          + "\"state\":\"Queued\",\"runtime_auth_scopes\":[\"all\"],\"lock_count\":0,"
          + "\"cost\":0.0,\"subrequests_cost\":-0.0,\"service\":false,\"published_ports\":{}}";

  @Test
  void aLockAnswerUnderTheCallersUuidReadsAsTheAnswer() throws Exception {
    Container answer = ContainerDecoder.parse(LOCK_ANSWER);
    String mine = new String(UUID.toCharArray());
    Container copy = answer.withUuidOf(mine);

    assertThat(copy.uuid()).isSameAs(mine);
    assertThat(snapshot(copy)).isEqualTo(snapshot(answer));
    assertThat(copy.command()).isEmpty();
    assertThat(copy.has("command")).isFalse();
    assertThat(copy).hasToString(answer.toString());
  }

  @Test
  void aWholeAnswerCopiedBeforeOrAfterItsLazyDecodingReadsTheSame() throws Exception {
    Map<String, Object> expected = snapshot(ContainerDecoder.parse(WHOLE));

    Container before = ContainerDecoder.parse(WHOLE).withUuidOf(new String(UUID.toCharArray()));
    assertThat(snapshot(before)).isEqualTo(expected);
    assertThat(String.valueOf(snapshot(before))).isEqualTo(String.valueOf(expected));

    Container decoded = ContainerDecoder.parse(WHOLE);
    assertThat(decoded.runtimeConstraints()).containsKey("gpu");
    Container after = decoded.withUuidOf(new String(UUID.toCharArray()));
    assertThat(snapshot(after)).isEqualTo(expected);
  }

  @Test
  void anotherOrTheSameUuidStringLeavesTheRecordAsItIs() {
    Container answer = ContainerDecoder.parse(LOCK_ANSWER);
    assertThat(answer.withUuidOf("zzzzz-dz642-someoneelse0001")).isSameAs(answer);
    assertThat(answer.withUuidOf(answer.uuid())).isSameAs(answer);
  }

  private static Map<String, Object> snapshot(Container c) throws Exception {
    return ContainerDecoderTest.snapshot(c);
  }
}
