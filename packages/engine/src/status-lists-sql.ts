import { isSatisfiedStageStatus, isTerminalStageStatus, STAGE_STATUSES } from '@pipewright/core';
import { sql, type SQL } from '@pipewright/db';

/** `'A', 'B'`: statuses as an SQL list, for `status in (…)` (they are constants, not input). */
export const statusList = (statuses: readonly string[]): SQL => sql.raw(statuses.map((s) => `'${s}'`).join(', '));

/** Stage statuses that end a stage. */
export const TERMINAL_STATUSES = statusList(STAGE_STATUSES.filter(isTerminalStageStatus));
/** Stage statuses that satisfy a need (SUCCEEDED, CACHED). */
export const SATISFIED_STATUSES = statusList(STAGE_STATUSES.filter(isSatisfiedStageStatus));
/** Stage statuses that end a stage without satisfying its dependents. */
export const UNSUCCEEDED_STATUSES = statusList(STAGE_STATUSES.filter((s) => isTerminalStageStatus(s) && !isSatisfiedStageStatus(s)));
