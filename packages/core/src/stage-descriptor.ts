import type { z } from 'zod';
import type { ArtifactType } from './artifact-ref.ts';

/** The type of a stage input: one artifact, or (`json[]`, …) the list a fan-out produced. */
export type InputType = ArtifactType | `${ArtifactType}[]`;

/** What validation and planning need to know about a stage type; no code that runs it. */
export interface StageDescriptor {
  /** `family.name@version`, e.g. `train.logistic@1`. */
  type: string;
  /** `ingest`, `train`, …: picks the queue family. */
  family: string;
  description: string;
  /**
   * Input name -> artifact type. Every input is required. A type ending in `[]` is a list: it
   * binds to an output of a `foreach` stage and receives that output of every instance.
   */
  inputs: Record<string, InputType>;
  /** Output name -> artifact type. */
  outputs: Record<string, ArtifactType>;
  /** Schema of `with:`; applied with defaults at submit time. */
  params: z.ZodType;
  /** Timeout when the spec sets none. @defaultValue 1 hour */
  defaultTimeoutMs?: number;
  /**
   * The stage reads the outside world (a file, a database, a URL), so equal params do not mean
   * equal outputs: it is never served from the cache. Its consumers still are, when the data it
   * read has the same digest. @defaultValue false
   */
  volatile?: boolean;
}

/** Looks up a stage type by its `uses` string. */
export interface StageCatalog {
  get(type: string): StageDescriptor | undefined;
  list(): StageDescriptor[];
}
