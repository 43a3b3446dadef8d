export { DEFAULT_QUEUE_PREFIX, EVENTS_QUEUE, stageQueueName, expandQueueSelection, workerKey, workerKeyPattern, cancelChannel, canceledAttemptKey } from './queue-names.ts';
export { stageJobId, eventJobId } from './job-ids.ts';
export { jobCatalog, stageJobSchema, stageEventSchema, type StageJob, type StageEvent, type StageEventType, type JobName, type JobPayload } from './job-catalog.ts';
export { openRedis } from './redis-connection.ts';
export { QueueProducer, type QueueProducerOptions, type StageJobToPublish } from './queue-producer.ts';
export { createRedisJobProbe, type ProbedJobState } from './redis-job-probe.ts';
