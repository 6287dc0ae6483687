/// The script flakebox loads into every Node process of a Jest attempt (`NODE_OPTIONS=--require`).
/// In the one process that is Jest's command line (its `bin/jest.js`, however it was started:
/// `jest`, `npx jest`, `npm test`, `node …/jest`) it adds the attempt's `--seed`, `--randomize`
/// when the job shuffles and this Jest has it (29.4+), `--ci` and the `--json` report, unless the
/// command gives them itself; it then writes what it did. Any other Node process is left as it is.
enum JestPreload {
    static let fileName = "preload.cjs"

    static let source = #"""
        // flakebox: the attempt's seed and order for Jest (see JestPreload.swift).
        'use strict';
        (function () {
          const fs = require('fs');
          const path = require('path');
          const env = process.env;
          let main;
          try { main = fs.realpathSync(process.argv[1] || ''); } catch (e) { return; }
          const bin = path.dirname(main);
          const pkg = path.dirname(bin);
          if (path.basename(bin) !== 'bin' || !['jest.js', 'jest'].includes(path.basename(main)) ||
              !['jest', 'jest-cli'].includes(path.basename(pkg))) return;
          let version = '';
          try { version = String(JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version || ''); } catch (e) {}
          const [major, minor] = version.split('.').map((n) => parseInt(n, 10));
          const randomizeKnown = major > 29 || (major === 29 && minor >= 4);
          const args = process.argv.slice(2);
          const has = (flag) => args.some((a) => a === flag || a.startsWith(flag + '='));
          const added = [];
          const ownSeed = has('--seed');
          // A seed flakebox did not pass (the variable lost on the way) is left to Jest, and said.
          const seed = /^[0-9]{1,10}$/.test(env.JEST_FLAKEBOX_SEED || '') ? env.JEST_FLAKEBOX_SEED : null;
          if (!ownSeed && seed !== null) added.push('--seed=' + seed);
          const shuffle = env.JEST_FLAKEBOX_SHUFFLE === '1';
          const randomize = has('--randomize') || (shuffle && randomizeKnown);
          if (shuffle && randomizeKnown && !has('--randomize')) added.push('--randomize');
          if (!has('--ci')) added.push('--ci');
          if (!has('--json') && !has('--outputFile')) added.push('--json', '--outputFile=' + env.JEST_FLAKEBOX_REPORT);
          process.argv.splice(2, 0, ...added);
          try {
            fs.writeFileSync(env.JEST_FLAKEBOX_INFO, JSON.stringify({
              plugin: 'flakebox_jest', jest: version.slice(0, 40), own_seed: ownSeed, seeded: seed !== null || ownSeed, randomize: randomize,
              randomize_known: randomizeKnown, added: added.slice(0, 8),
            }));
          } catch (e) {}
        })();
        """#
}
