/**
 * The simulator's model of RailsAPI: container records and their attributes ({@code
 * ContainerRecord}, {@code Attr}, {@code State}), the validations and callbacks of a save ({@code
 * ContainerRules}), the containers resource with one lock per row ({@code ContainersService}),
 * container requests, API tokens and their scopes ({@code TokenRegistry}), list queries (filters,
 * order, paging), uuids, the error a request ends with ({@code ApiException}) and the write
 * history. It knows nothing of HTTP.
 *
 * <p><strong>Not API</strong>: public only so that {@code dev.crunchguard.testkit} and the HTTP
 * front end can use it; it may change or go away in any release. Do not use it from your code.
 */
@NullMarked
package dev.crunchguard.testkit.internal.model;

import org.jspecify.annotations.NullMarked;
