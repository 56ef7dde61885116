/** The cross-engine suite (./suite.ts) in Firefox ESR. */
import { describeEngine } from './suite.ts';

describeEngine('firefox');
