import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A routable model and its price. Prices are integer micro-USD per million tokens (bigint in Postgres,
 * read back as numbers: the largest plausible price is far below 2^53).
 */
const microUsd = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

@Entity({ name: 'models' })
export class ModelEntity {
  @PrimaryColumn({ type: 'varchar', length: 200 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  vendor!: string;

  /** text, multimodal, image, video, audio, embedding, rerank */
  @Column({ type: 'varchar', length: 32 })
  modality!: string;

  @Column({ name: 'input_micro_usd_per_mtok', type: 'bigint', transformer: microUsd })
  inputMicroUsdPerMTok!: number;

  @Column({ name: 'output_micro_usd_per_mtok', type: 'bigint', transformer: microUsd })
  outputMicroUsdPerMTok!: number;

  @Column({ name: 'cache_read_micro_usd_per_mtok', type: 'bigint', nullable: true, transformer: microUsd })
  cacheReadMicroUsdPerMTok!: number | null;

  @Column({
    name: 'cache_write_5m_micro_usd_per_mtok',
    type: 'bigint',
    nullable: true,
    transformer: microUsd,
  })
  cacheWrite5mMicroUsdPerMTok!: number | null;

  @Column({
    name: 'cache_write_1h_micro_usd_per_mtok',
    type: 'bigint',
    nullable: true,
    transformer: microUsd,
  })
  cacheWrite1hMicroUsdPerMTok!: number | null;

  @Column({ name: 'per_request_micro_usd', type: 'bigint', nullable: true, transformer: microUsd })
  perRequestMicroUsd!: number | null;

  @Column({ name: 'context_window', type: 'integer', nullable: true })
  contextWindow!: number | null;

  @Column({ name: 'max_output_tokens', type: 'integer', nullable: true })
  maxOutputTokens!: number | null;

  @Column({ name: 'supports_thinking', type: 'boolean', default: false })
  supportsThinking!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
