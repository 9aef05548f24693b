package dev.crunchguard;

import java.util.Map;
import okhttp3.Headers;
import okhttp3.ResponseBody;
import retrofit2.Call;
import retrofit2.http.GET;
import retrofit2.http.Header;
import retrofit2.http.HeaderMap;
import retrofit2.http.Path;
import retrofit2.http.QueryMap;
import retrofit2.http.Streaming;

/**
 * The Arvados endpoints whose requests Retrofit builds: the list query and the rarely called token
 * and current-container reads. {@link Http} takes each call's {@link Call#request()} and sends it
 * through OkHttp itself, like the requests it builds directly for the container calls (get, lock,
 * unlock, update), so every answer is read by the same bounded code; Retrofit never executes a
 * call. {@code @Streaming} keeps Retrofit from preparing a body converter that would copy bodies.
 */
interface ArvadosService {
  String RID = Http.REQUEST_ID_HEADER;

  @Streaming
  @GET("arvados/v1/containers")
  Call<ResponseBody> list(
      @HeaderMap Headers client,
      @Header(RID) String requestId,
      @QueryMap Map<String, String> params);

  @Streaming
  @GET("arvados/v1/containers/{uuid}/auth")
  Call<ResponseBody> auth(
      @HeaderMap Headers client, @Header(RID) String requestId, @Path("uuid") String uuid);

  @Streaming
  @GET("arvados/v1/containers/current")
  Call<ResponseBody> current(@HeaderMap Headers client, @Header(RID) String requestId);

  @Streaming
  @GET("arvados/v1/api_client_authorizations/current")
  Call<ResponseBody> currentToken(@HeaderMap Headers client, @Header(RID) String requestId);
}
