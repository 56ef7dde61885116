// A consumer's config with Vite 8: nothing for tabtoken itself; the development origin comes from
// tabtoken/testing. The app renders with `h()` (no single-file components, so no Vue plugin): the
// flags below are what @vitejs/plugin-vue would define.
import { devOrigin } from 'tabtoken/testing';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [devOrigin({ faults: true })],
  define: { __VUE_OPTIONS_API__: 'false', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
});
