import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An upstream provider account ToRouter holds credentials for. */
@Entity({ name: 'channels' })
export class ChannelEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100, unique: true })
  name!: string;

  /** Wire family: openai, anthropic, gemini, openrouter, deepseek, qwen, bedrock, replicate, openai-compatible, demo. */
  @Column({ type: 'varchar', length: 32 })
  type!: string;

  @Column({ name: 'base_url', type: 'text', nullable: true })
  baseUrl!: string | null;

  /** AES-256-GCM ciphertext of the credentials JSON; never returned or logged. */
  @Column({ name: 'credentials_encrypted', type: 'text', nullable: true, select: false })
  credentialsEncrypted!: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  models!: string[];

  /** requested model id → upstream model id */
  @Column({ name: 'model_mapping', type: 'jsonb', default: () => "'{}'" })
  modelMapping!: Record<string, string>;

  /** Lower wins. */
  @Column({ type: 'integer', default: 0 })
  priority!: number;

  @Column({ type: 'integer', default: 1 })
  weight!: number;

  /** Plan ids allowed to use this channel; empty = every plan. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  plans!: string[];

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  timeouts!: { connectMs?: number; firstByteMs?: number; totalMs?: number };

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
