'use strict';
// Applies track() by hand, the way compiled TC39 and legacy decorators call it, then makes a known
// number of calls. It takes the loaded package as an argument so that the ESM and the CommonJS
// consumers run the same code against their own build.

/** A TC39 decorator context, with the initializers collected as the runtime would. */
function standardContext(kind, name, initializers, isStatic) {
  return {
    kind,
    name,
    static: isStatic,
    private: false,
    metadata: undefined,
    addInitializer: (fn) => initializers.push(fn),
  };
}

function exercise(tallyho, project) {
  const telemetry = tallyho.createTelemetry({ project, version: '1.0.0' });
  const track = telemetry.track();

  // TC39 class decorator: (value, context), may return a replacement for the class binding.
  class Client {
    static create() {
      return new this();
    }
    query(sql) {
      return sql.length;
    }
  }
  const TrackedClient = track(Client, standardContext('class', 'Client', [], false)) ?? Client;

  // TC39 method decorator: (method, context); its initializers run with each new instance.
  class Parser {
    parse(src) {
      return src.trim();
    }
  }
  const initializers = [];
  const parse = track(Parser.prototype.parse, standardContext('method', 'parse', initializers, false)) ?? Parser.prototype.parse;
  Object.defineProperty(Parser.prototype, 'parse', { value: parse, writable: true, configurable: true, enumerable: false });
  const newParser = () => {
    const parser = new Parser();
    for (const init of initializers) init.call(parser);
    return parser;
  };

  // Legacy decorators: (target, key, descriptor) on members first, then (constructor) on the class.
  class Engine {
    static make() {
      return new this();
    }
    run() {
      return 'ran';
    }
  }
  for (const [holder, key] of [
    [Engine.prototype, 'run'],
    [Engine, 'make'],
  ]) {
    const descriptor = Object.getOwnPropertyDescriptor(holder, key);
    Object.defineProperty(holder, key, track(holder, key, descriptor) ?? descriptor);
  }
  const TrackedEngine = track(Engine) ?? Engine;

  const client = TrackedClient.create();
  const lengths = [client.query('a'), client.query('bb'), new TrackedClient().query('ccc')];
  const parsed = [newParser().parse(' x '), newParser().parse('y ')];
  const engine = TrackedEngine.make();
  const ran = [engine.run(), new TrackedEngine().run()];
  telemetry.count('feature.export', 3);
  telemetry.count('feature.export');

  return {
    enabled: telemetry.status().enabled,
    lengths,
    parsed,
    ran,
    names: [TrackedClient.name, TrackedEngine.name],
    instanceOf: client instanceof TrackedClient && client instanceof Client && engine instanceof Engine,
  };
}

module.exports = { exercise };
