// The settings the README gives for Vite 7 and older, kept here to show they do no harm with the
// current Vite: exclude tabtoken from dependency pre-bundling (Vite 7's pre-bundling breaks the
// worker URL in dev) and emit the worker as an ES module (Vite 7 cannot split an IIFE worker, and
// the worker loads its signature verification on demand). The development origin comes from
// tabtoken/testing.
import { devOrigin } from 'tabtoken/testing';

export default {
  plugins: [devOrigin({ faults: true })],
  optimizeDeps: { exclude: ['tabtoken'] },
  worker: { format: 'es' },
};
