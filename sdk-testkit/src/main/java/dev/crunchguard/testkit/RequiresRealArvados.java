package dev.crunchguard.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class (or method) that runs against a real Arvados server, configured as {@link
 * RealArvados#fromEnvironment()} describes, and lets its tests and constructors take a {@link
 * RealArvados} parameter.
 *
 * <p>Without the environment the tests are reported <em>skipped</em>, with the reason; when {@value
 * RealArvados#REQUIRE_VAR} names {@value RealArvados#SERVICE_NAME} (as CI sets it) they
 * <em>fail</em> instead. A configuration that is present but wrong (missing token, unreachable
 * server, wrong roles) always fails.
 *
 * <pre>{@code
 * @RequiresRealArvados
 * class LockOnRealServerTest {
 *   @Test
 *   void locks(RealArvados arv) { ... }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(RealArvadosExtension.class)
public @interface RequiresRealArvados {}
