// Preloaded into every test process by run-tests.mjs: property tests run from one seed, so a CI run is
// reproducible and a failure seen once is seen again. FC_SEED=<n> replays a seed; FC_SEED=random explores new
// cases (the runner prints the seed it picked, and fast-check prints the failing seed and path).
import fc from 'fast-check';

const raw = process.env.FC_SEED ?? '';
const seed = Number.parseInt(raw, 10);
if (Number.isSafeInteger(seed)) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
