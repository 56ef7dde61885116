/** The cross-engine suite (./suite.ts) in WebKitGTK. */
import { describeEngine } from './suite.ts';

describeEngine('webkit');
