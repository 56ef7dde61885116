export interface EntrySize {
  entry: string;
  minified: number;
  gzip: number;
  budget: number | null;
  inputs: { path: string; bytes: number }[];
}
export declare const BUDGETS: { client: number; worker: number };
export declare function measureSizes(): Promise<Record<'client' | 'worker' | 'localEngine' | 'verifier' | 'clientFloor', EntrySize>>;
export declare function measurePeerSize(): Promise<{ entry: string; minified: number; gzip: number }>;
