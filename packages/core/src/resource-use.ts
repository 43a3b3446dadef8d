/** Resource use a worker measured for one attempt. */
export interface ResourceUse {
  cpuUserMs: number;
  cpuSystemMs: number;
  peakRssBytes: number;
  wallMs: number;
}
