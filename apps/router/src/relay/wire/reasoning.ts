// Reasoning is asked for by effort (OpenAI `reasoning_effort`, Gemini 3 `thinkingLevel`) or by token
// budget (Anthropic `budget_tokens`, Gemini 2.5 `thinkingBudget`). One table converts between the two so
// every adapter pair agrees.

import type { CanonicalReasoning, ReasoningEffort } from '../canonical';

/** Budgets per effort. 1024 is Anthropic's minimum `budget_tokens`. */
export const EFFORT_BUDGET_TOKENS: Record<ReasoningEffort, number> = { low: 1024, medium: 4096, high: 16384 };

export function effortFromBudget(budgetTokens: number): ReasoningEffort {
  if (budgetTokens <= 2048) return 'low';
  if (budgetTokens <= 8192) return 'medium';
  return 'high';
}

export function reasoningBudget(reasoning: CanonicalReasoning): number {
  return reasoning.budgetTokens ?? EFFORT_BUDGET_TOKENS[reasoning.effort ?? 'medium'];
}

export function reasoningEffort(reasoning: CanonicalReasoning): ReasoningEffort {
  return (
    reasoning.effort ??
    (reasoning.budgetTokens !== undefined ? effortFromBudget(reasoning.budgetTokens) : 'medium')
  );
}

/** Maps the effort words of every format (`minimal`, `xhigh`, `max`, …) onto the canonical three. */
export function parseEffort(value: string): ReasoningEffort | undefined {
  switch (value.toLowerCase()) {
    case 'minimal':
    case 'low':
      return 'low';
    case 'medium':
      return 'medium';
    case 'high':
    case 'xhigh':
    case 'max':
      return 'high';
    default:
      return undefined;
  }
}
