/**
 * @module
 * A test-only helper module that cannot be loaded: it throws at import, as a helper whose npm
 * package is missing would. Loaded by URL (`WorkerHost` `extraHelperModules`).
 */

throw new Error("broken_helper: cannot load (on purpose)");
