package dev.crunchguard;

import com.google.gson.JsonObject;
import java.util.Map;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;
import retrofit2.http.Body;
import retrofit2.http.GET;
import retrofit2.http.Header;
import retrofit2.http.POST;
import retrofit2.http.PUT;
import retrofit2.http.Path;
import retrofit2.http.Query;
import retrofit2.http.QueryMap;

/**
 * The Arvados endpoints this SDK calls. Bodies are read raw so that decoding failures can be
 * reported with the status and an excerpt (see {@link Http}).
 */
interface ArvadosService {
  String RID = "X-Request-Id";

  @GET("arvados/v1/containers/{uuid}")
  Call<ResponseBody> get(@Header(RID) String requestId, @Path("uuid") String uuid, @Nullable @Query("select") String select);

  @GET("arvados/v1/containers")
  Call<ResponseBody> list(@Header(RID) String requestId, @QueryMap Map<String, String> params);

  @POST("arvados/v1/containers/{uuid}/lock")
  Call<ResponseBody> lock(@Header(RID) String requestId, @Path("uuid") String uuid);

  @POST("arvados/v1/containers/{uuid}/unlock")
  Call<ResponseBody> unlock(@Header(RID) String requestId, @Path("uuid") String uuid);

  @PUT("arvados/v1/containers/{uuid}")
  Call<ResponseBody> update(
      @Header(RID) String requestId, @Path("uuid") String uuid, @Nullable @Query("select") String select, @Body JsonObject body);

  @GET("arvados/v1/containers/{uuid}/auth")
  Call<ResponseBody> auth(@Header(RID) String requestId, @Path("uuid") String uuid);

  @GET("arvados/v1/containers/current")
  Call<ResponseBody> current(@Header(RID) String requestId);

  @GET("arvados/v1/api_client_authorizations/current")
  Call<ResponseBody> currentToken(@Header(RID) String requestId);
}
