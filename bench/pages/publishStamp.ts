/** The side channel between the instrumented worker and the fan-out page (imports nothing). */

export const PUBLISH_CHANNEL = 'bench:publish';

/** The worker published this token at `at` (`performance.timeOrigin + performance.now()`, ms). */
export interface PublishStamp {
  jwt: string;
  at: number;
}

export function isPublishStamp(value: unknown): value is PublishStamp {
  return typeof value === 'object' && value !== null && 'jwt' in value && 'at' in value && typeof value.jwt === 'string' && typeof value.at === 'number';
}
