import type { TokenManager } from 'tabtoken';
import { useToken, useTokenSnapshot } from 'tabtoken/vue';
import { createApp, defineComponent, h, ref } from 'vue';
import { tokens } from './tokens';

declare global {
  interface Window {
    app: { tokens: TokenManager };
  }
}

const App = defineComponent({
  setup() {
    const snapshot = useTokenSnapshot(tokens);
    const template = ref<string | undefined>(undefined);
    const { token, error } = useToken(tokens, () => ({ template: template.value }));
    return () =>
      h('main', [
        h('p', { id: 'status' }, snapshot.value.status),
        h('p', { id: 'session' }, snapshot.value.sessionId ?? 'signed out'),
        h('p', { id: 'token' }, token.value ?? error.value?.code ?? ''),
      ]);
  },
});

window.app = { tokens };
createApp(App).mount('#app');
