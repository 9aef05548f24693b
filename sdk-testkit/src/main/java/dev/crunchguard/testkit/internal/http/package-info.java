/**
 * The simulator's HTTP front end: request parsing ({@code Request}), routing to an {@code
 * Endpoint}, request ids, disabled APIs, fault injection before and after the model runs, token
 * extraction, the Rails and controller error envelopes ({@code HttpApi}), request counting, the
 * {@code /_simulator/} control endpoints, the listening options and the self-signed TLS set-up. It
 * turns HTTP exchanges into calls on {@code dev.crunchguard.testkit.internal.model} and renders the
 * answers.
 *
 * <p><strong>Not API</strong>: public only so that {@code dev.crunchguard.testkit} can use it; it
 * may change or go away in any release. Do not use it from your code.
 */
@NullMarked
package dev.crunchguard.testkit.internal.http;

import org.jspecify.annotations.NullMarked;
