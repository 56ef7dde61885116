/**
 * The demo's own BroadcastChannel between its tabs (the library's channel is the library's): each
 * tab reports itself for the tab strip, and the eldest tab hands the chart's history to tabs that
 * open later.
 *
 * Background tabs run their timers once a second at best (and Chromium slows long-hidden tabs to
 * once a minute), but they still receive messages at once. So a visible tab's report doubles as a
 * roll call that every tab answers, which keeps hidden tabs' tiles alive and current.
 *
 * Tabs of the two token origins use channels of their own (`name`), so a Clerk tab's tile never
 * shows in the strip of an OpenID Connect tab.
 */
import { DEMO_CHANNEL, MAX_SAMPLES, parseDemoMessage, type DemoMessage, type TabReport } from './demoMessages.ts';
import type { ActivityHistory } from './ActivityHistory.ts';
import type { TabRoster } from './TabRoster.ts';

/** A tab answers a roll call only if it has not reported for this long (several visible tabs call at once). */
const ANSWER_GAP_MS = 700;

/**
 * @example
 * const channel = new DemoChannel({ roster, history, report: () => myReport(), onChange: redraw, name: `${DEMO_CHANNEL}:oidc` });
 * channel.report();          // every second and whenever this tab's state changes
 * channel.requestHistory();  // once at start
 */
export class DemoChannel {
  readonly #channel: BroadcastChannel;
  readonly #roster: TabRoster;
  readonly #history: ActivityHistory;
  readonly #report: () => TabReport;
  readonly #onChange: () => void;
  #lastSent = 0;

  constructor(o: { roster: TabRoster; history: ActivityHistory; report: () => TabReport; onChange: () => void; name?: string }) {
    this.#channel = new BroadcastChannel(o.name ?? DEMO_CHANNEL);
    this.#roster = o.roster;
    this.#history = o.history;
    this.#report = o.report;
    this.#onChange = o.onChange;
    this.#channel.onmessage = (event) => {
      const message = parseDemoMessage(event.data);
      if (message) this.#receive(message);
    };
    addEventListener('pagehide', () => this.#post({ v: 1, type: 'bye', id: this.#report().id }));
  }

  /** Sends this tab's report, and puts it in the roster (a channel does not echo to its sender). */
  report(): void {
    const report = this.#report();
    this.#roster.upsert(report);
    this.#lastSent = Date.now();
    this.#post({ v: 1, type: 'report', report });
    this.#onChange();
  }

  /** Asks the eldest tab for the history this tab did not see. */
  requestHistory(): void {
    this.#post({ v: 1, type: 'history-request', from: this.#report().id });
  }

  #receive(message: DemoMessage): void {
    const self = this.#report().id;
    switch (message.type) {
      case 'report':
        if (message.report.id === self) return;
        this.#roster.upsert(message.report);
        if (message.report.visible && Date.now() - this.#lastSent >= ANSWER_GAP_MS) this.report();
        else this.#onChange();
        return;
      case 'bye':
        this.#roster.remove(message.id);
        this.#onChange();
        return;
      case 'history-request':
        // The requester is new and may not be in the roster yet; it is not older than this tab.
        if (message.from !== self && this.#roster.isEldest(self)) {
          this.#post({ v: 1, type: 'history', to: message.from, samples: this.#history.samples().slice(-MAX_SAMPLES) });
        }
        return;
      case 'history':
        if (message.to !== self) return;
        this.#history.adopt(message.samples);
        this.#onChange();
        return;
    }
  }

  #post(message: DemoMessage): void {
    this.#channel.postMessage(message);
  }
}
