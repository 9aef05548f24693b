package dev.crunchguard;

import java.util.Map;
import okhttp3.Headers;
import okhttp3.RequestBody;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;
import retrofit2.http.Body;
import retrofit2.http.GET;
import retrofit2.http.Header;
import retrofit2.http.HeaderMap;
import retrofit2.http.POST;
import retrofit2.http.PUT;
import retrofit2.http.Path;
import retrofit2.http.Query;
import retrofit2.http.QueryMap;
import retrofit2.http.Streaming;

/**
 * The Arvados endpoints this SDK calls. Bodies are read raw so that decoding failures can be
 * reported with the status and an excerpt (see {@link Http}); {@code @Streaming}, because {@code
 * Http} reads every body itself, bounded, and closes it (Retrofit would otherwise copy each
 * successful body first, unbounded). Request bodies arrive serialised, so no converter runs.
 */
interface ArvadosService {
  String RID = "X-Request-Id";

  @Streaming
  @GET("arvados/v1/containers/{uuid}")
  Call<ResponseBody> get(
      @HeaderMap Headers client,
      @Header(RID) String requestId,
      @Path("uuid") String uuid,
      @Nullable @Query("select") String select);

  @Streaming
  @GET("arvados/v1/containers")
  Call<ResponseBody> list(
      @HeaderMap Headers client,
      @Header(RID) String requestId,
      @QueryMap Map<String, String> params);

  @Streaming
  @POST("arvados/v1/containers/{uuid}/lock")
  Call<ResponseBody> lock(
      @HeaderMap Headers client, @Header(RID) String requestId, @Path("uuid") String uuid);

  @Streaming
  @POST("arvados/v1/containers/{uuid}/unlock")
  Call<ResponseBody> unlock(
      @HeaderMap Headers client, @Header(RID) String requestId, @Path("uuid") String uuid);

  @Streaming
  @PUT("arvados/v1/containers/{uuid}")
  Call<ResponseBody> update(
      @HeaderMap Headers client,
      @Header(RID) String requestId,
      @Path("uuid") String uuid,
      @Nullable @Query("select") String select,
      @Body RequestBody body);

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
