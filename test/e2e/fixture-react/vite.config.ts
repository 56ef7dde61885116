// A consumer's config with Vite 8: nothing for tabtoken itself; the development origin comes from
// tabtoken/testing so the app, its tokens and the tabs share one origin.
import { devOrigin } from 'tabtoken/testing';
import { defineConfig } from 'vite';

export default defineConfig({ plugins: [devOrigin({ faults: true })] });
