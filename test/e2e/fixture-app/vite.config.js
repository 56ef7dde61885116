// What a consumer needs (SPEC section 1): exclude tabtoken from dependency pre-bundling so the
// worker URL inside the package survives. The development origin comes from tabtoken/testing.
import { devOrigin } from 'tabtoken/testing';

export default {
  plugins: [devOrigin({ faults: true })],
  optimizeDeps: { exclude: ['tabtoken'] },
};
