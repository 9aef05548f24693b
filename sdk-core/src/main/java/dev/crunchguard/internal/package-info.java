/**
 * Crunch Guard's own plumbing, shared by its packages. <strong>Not API</strong>: anything here may
 * change or go away in any release; do not use it from your code.
 */
@NullMarked
package dev.crunchguard.internal;

import org.jspecify.annotations.NullMarked;
