// Runs before every action script, in a fresh V8 context of the sandbox worker
// (actions/sandbox_worker.py). It takes away what ZITADEL's goja runtime does not have and what
// could reach past the memory limit (timers, WebAssembly, buffers allocated outside the heap),
// builds `ctx` from the JSON the server sent, and records every `api` call in a list that the
// server reads back as JSON and applies itself (spec/actions.md §2.2). Nothing here can call the
// server: the script only ever sees data.
(function (global) {
  "use strict";
  var removed = ["setTimeout", "setInterval", "clearTimeout", "clearInterval", "queueMicrotask", "__timer_manager",
    "WebAssembly", "SharedArrayBuffer", "ArrayBuffer", "DataView", "Atomics", "Int8Array", "Uint8Array",
    "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float16Array",
    "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "FinalizationRegistry", "WeakRef"];
  for (var i = 0; i < removed.length; i++) {
    try {
      delete global[removed[i]];
    } catch (e) {
      global[removed[i]] = undefined;  // mini-racer's timers are not configurable, only writable
    }
  }
  var stringify = JSON.stringify;
  var parse = JSON.parse;
  var calls = [];

  function copy(value) {
    var text = stringify(value);
    return text === undefined ? null : parse(text);
  }

  function claims() {
    return {
      setClaim: function (key, value) { calls.push(["claim", String(key), copy(value)]); },
      appendLogIntoClaims: function (entry) { calls.push(["log", String(entry)]); }
    };
  }

  function logger(level) {
    return function () {
      calls.push(["print", level, Array.prototype.slice.call(arguments).map(String).join(" ")]);
    };
  }

  var modules = {
    "zitadel/log": function () { return { log: logger("info"), warn: logger("warn"), error: logger("error") }; },
    "zitadel/uuid": function () {
      return {
        v4: function () {
          return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
            var r = Math.random() * 16 | 0;
            return (c === "x" ? r : (r & 3 | 8)).toString(16);
          });
        }
      };
    }
  };

  global.require = function (name) {
    if (name === "zitadel/http") {
      throw new Error('module "zitadel/http" is not available: actions have no network access');
    }
    if (!Object.prototype.hasOwnProperty.call(modules, name)) {
      throw new Error('module "' + name + '" not found');
    }
    return modules[name]();
  };

  global.__bergfriedPrepare = function (data) {
    var grants = data.grants;
    grants.grants.forEach(function (grant) {
      var metadata = data.grantOrgMetadata[grant.userGrantResourceOwner] || data.emptyMetadata;
      grant.getOrgMetadata = function () { return copy(metadata); };
    });
    var ctx = {
      v1: {
        claims: data.claims,
        getUser: function () { return copy(data.user); },
        user: {
          getMetadata: function () { return copy(data.userMetadata); },
          grants: grants
        },
        org: { getMetadata: function () { return copy(data.orgMetadata); } },
        application: { getClientId: function () { return data.clientId; } }
      }
    };
    var api = {
      v1: {
        claims: claims(),
        userinfo: claims(),
        user: {
          setMetadata: function (key, value) {
            if (arguments.length !== 2) {
              throw new Error("setMetadata needs exactly 2 arguments: key and value");
            }
            calls.push(["metadata", String(key), stringify(value)]);
          }
        }
      }
    };
    return function (name) {
      var fn = global[name];
      if (typeof fn !== "function") {
        throw new Error("function not found");
      }
      fn(ctx, api);
      return stringify(calls);
    };
  };
})(globalThis);
