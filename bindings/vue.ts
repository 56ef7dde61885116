/**
 * `tabtoken/vue`: composables over a token manager created outside the components (at module
 * scope). Each subscribes for as long as the effect scope it was called in (a component's setup, or
 * an `effectScope()`) and is released with it.
 */
import { computed, getCurrentScope, onScopeDispose, shallowReadonly, shallowRef, toValue, watch, type MaybeRefOrGetter, type ShallowRef } from 'vue';
import type { GetTokenOptions, Snapshot, Status, TokenError, TokenManager } from 'tabtoken';
import { createTokenStore, optionsKey } from './tokenState.ts';

/**
 * The manager's snapshot as a readonly shallow ref, replaced on every change and released with
 * the calling effect scope. Called outside any scope, it stays subscribed for the page's life.
 *
 * @example
 * <script setup lang="ts">
 * import { useTokenSnapshot } from 'tabtoken/vue';
 * import { tokens } from './tokens'; // createTokenManager() at module scope
 * const snapshot = useTokenSnapshot(tokens);
 * </script>
 * <template><span>{{ snapshot.status }}</span></template>
 */
export function useTokenSnapshot(tokens: TokenManager): Readonly<ShallowRef<Snapshot>> {
  const snapshot = shallowRef(tokens.getSnapshot());
  const off = tokens.subscribe(() => {
    snapshot.value = tokens.getSnapshot();
  });
  if (getCurrentScope()) onScopeDispose(off);
  return shallowReadonly(snapshot);
}

/** What `useToken` gives, as readonly refs. */
export interface TokenRefs {
  /** The token for the options; `null` while there is none yet, when signed out, or after a failure. */
  readonly token: Readonly<ShallowRef<string | null>>;
  readonly status: Readonly<ShallowRef<Status>>;
  /** Why there is no token; `null` once a token arrives, and when signed out. */
  readonly error: Readonly<ShallowRef<TokenError | null>>;
}

/**
 * The token for `options`, kept current as it refreshes (a mint starts when there is none).
 * `options` may be a plain object, a ref or a getter; when its value changes (by cache key, leeway
 * or `skipCache`) the token of the new options is read. Released with the calling effect scope.
 *
 * @example
 * <script setup lang="ts">
 * import { ref } from 'vue';
 * import { useToken } from 'tabtoken/vue';
 * const org = ref<string | null>(null);
 * const { token, status, error } = useToken(tokens, () => ({ template: 'api', organizationId: org.value }));
 * </script>
 */
export function useToken(tokens: TokenManager, options?: MaybeRefOrGetter<GetTokenOptions | undefined>): TokenRefs {
  const token = shallowRef<string | null>(null);
  const status = shallowRef<Status>(tokens.getSnapshot().status);
  const error = shallowRef<TokenError | null>(null);
  const key = computed(() => optionsKey(toValue(options)));
  watch(
    key,
    (_key, _previous, onCleanup) => {
      const store = createTokenStore(tokens, toValue(options));
      const update = () => {
        const state = store.getState();
        token.value = state.token;
        status.value = state.status;
        error.value = state.error;
      };
      onCleanup(store.subscribe(update));
      update();
    },
    { immediate: true },
  );
  return { token: shallowReadonly(token), status: shallowReadonly(status), error: shallowReadonly(error) };
}
