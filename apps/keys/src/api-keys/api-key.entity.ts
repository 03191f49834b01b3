import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type ValueTransformer,
} from 'typeorm';

/** Postgres bigint arrives as a string; every bigint here is a safe integer (micro-USD, tokens). */
const bigintAsNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null ? null : Number(v)),
};

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** SHA-256 of the secret, hex; the secret itself is never stored. */
  @Column({ name: 'key_hash', type: 'char', length: 64, unique: true, select: false })
  keyHash!: string;

  @Column({ name: 'masked_key', type: 'varchar', length: 32 })
  maskedKey!: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status!: 'active' | 'disabled';

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  /** billing's plan id; null = the account's default plan. */
  @Column({ name: 'plan_id', type: 'varchar', length: 100, nullable: true })
  planId!: string | null;

  /** Spend cap, integer micro-USD; 0 = none. */
  @Column({ name: 'quota_micro_usd', type: 'bigint', default: 0, transformer: bigintAsNumber })
  quotaMicroUsd!: number;

  /** What billing has settled against this key so far (keys.api-key.spend.add.v1), integer micro-USD. */
  @Column({ name: 'spent_micro_usd', type: 'bigint', default: 0, transformer: bigintAsNumber })
  spentMicroUsd!: number;

  /** Sliding request windows (0 = off). */
  @Column({ name: 'per_5h', type: 'integer', default: 0 })
  per5h!: number;

  @Column({ name: 'per_1d', type: 'integer', default: 0 })
  per1d!: number;

  @Column({ name: 'per_7d', type: 'integer', default: 0 })
  per7d!: number;

  @Column({ type: 'integer', default: 0 })
  rpm!: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  tpm!: number;

  /** Canonical CIDRs. */
  @Column({ name: 'ip_whitelist', type: 'text', array: true, default: () => "'{}'" })
  ipWhitelist!: string[];

  @Column({ name: 'ip_blacklist', type: 'text', array: true, default: () => "'{}'" })
  ipBlacklist!: string[];

  @Column({ name: 'model_whitelist', type: 'text', array: true, default: () => "'{}'" })
  modelWhitelist!: string[];

  /** The id request windows are counted under: the key's own id, inherited by its rotations. */
  @Column({ name: 'limits_id', type: 'uuid' })
  limitsId!: string;

  /** The key this one replaced by rotation. */
  @Column({ name: 'rotated_from_id', type: 'uuid', nullable: true })
  rotatedFromId!: string | null;

  /** A rotated key keeps working until this time, then counts as deleted. */
  @Column({ name: 'delete_at', type: 'timestamptz', nullable: true })
  deleteAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'last_used_ip', type: 'varchar', length: 64, nullable: true })
  lastUsedIp!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** Deleted keys keep their row for audit; lookups treat them as unknown. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}
