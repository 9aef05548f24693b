package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The websocket URL form of a token (arvados-ws takes it as {@code ?api_token=}) is masked too. */
class RedactorQueryTest {
  static final String OTHER_TOKEN = "3kg6k6lzmp9kjabcdefghijklmnopqrstuvwxyz0123456789";

  @Test
  void apiTokenQueryValues_areMasked_evenWhenTheyAreNotTheClientsToken() {
    Redactor r = new Redactor(null);

    assertThat(
            r.redact(
                "GET wss://ws.zzzzz.example.org/websocket?api_token="
                    + OTHER_TOKEN
                    + "&x=1 failed"))
        .isEqualTo("GET wss://ws.zzzzz.example.org/websocket?api_token=<redacted>&x=1 failed");
    assertThat(r.redact("/websocket?a=b&api_token=" + OTHER_TOKEN))
        .isEqualTo("/websocket?a=b&api_token=<redacted>");
    assertThat(r.redact("?api_token=<redacted>")).isEqualTo("?api_token=<redacted>");
    assertThat(r.redact("the api_token= setting")).isEqualTo("the api_token= setting");
  }
}
