/** The cross-engine suite (./suite.ts) in Chromium. */
import { describeEngine } from './suite.ts';

describeEngine('chromium');
