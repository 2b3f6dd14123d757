/*
 * Decorated #private members exist only in the TC39 standard, so these shapes are compiled for the TC39
 * suites alone.
 */
import type { Tracker } from './shapes.js';

/** Defines fresh classes with a decorated #private method that count into `telemetry`. */
export function definePrivateShapes(telemetry: Tracker) {
  class Secretive {
    @telemetry.track()
    #hidden(): string {
      return 'hidden';
    }
    reveal(): string {
      return this.#hidden();
    }
  }

  class SecretiveKid extends Secretive {}

  return { Secretive, SecretiveKid };
}
