/** The part of reflect-metadata's API that tallyho uses, when the host has loaded it. */
interface MetadataReflect {
  getOwnMetadataKeys(target: object, key?: string | symbol): unknown[];
  getOwnMetadata(metadataKey: unknown, target: object, key?: string | symbol): unknown;
  defineMetadata(metadataKey: unknown, value: unknown, target: object, key?: string | symbol): void;
}

/**
 * Copies the reflect-metadata that other decorators stored on `from` (NestJS route metadata,
 * `design:paramtypes` for dependency injection) onto `to`. Only when the host has loaded a
 * reflect-metadata polyfill: tallyho never loads one itself.
 */
export function copyMetadata(from: object, to: object, key?: string | symbol): void {
  const reflect = Reflect as unknown as Partial<MetadataReflect>;
  if (typeof reflect.getOwnMetadataKeys !== 'function' || typeof reflect.defineMetadata !== 'function') return;
  const api = reflect as MetadataReflect;
  for (const metadataKey of api.getOwnMetadataKeys(from, key)) {
    api.defineMetadata(metadataKey, api.getOwnMetadata(metadataKey, from, key), to, key);
  }
}
