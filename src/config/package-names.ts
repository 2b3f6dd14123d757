/** An npm package name, as npm accepts it (`react`, `@acme/core`). */
export const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9_~-][a-z0-9._~-]*$/;

/** A version as a package.json gives it (semver, prerelease and build included). */
export const PACKAGE_VERSION = /^\d{1,9}\.\d{1,9}\.\d{1,9}(?:-[0-9A-Za-z.-]{1,64})?(?:\+[0-9A-Za-z.-]{1,64})?$/;
