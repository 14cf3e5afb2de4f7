/**
 * Work budget of one (rule, resource) evaluation. Every JMESPath node visit, every assertion-tree
 * node and every element a function touches costs steps; nesting costs depth. Exhausting either
 * throws `BudgetExceededError`, which the engine reports as an `error` result (never a hang).
 */
import { BudgetExceededError } from '../errors.js';

export interface BudgetLimits {
  /** Maximum steps per (rule, resource). Default 2,000,000. */
  maxSteps: number;
  /** Maximum nesting depth of trees, comparisons and values walked. Default 200. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: BudgetLimits = { maxSteps: 2_000_000, maxDepth: 200 };

export class Budget {
  steps = 0;
  private readonly maxSteps: number;
  constructor(readonly limits: BudgetLimits = DEFAULT_LIMITS) {
    this.maxSteps = limits.maxSteps;
  }

  charge(n = 1): void {
    this.steps += n;
    if (this.steps > this.maxSteps) {
      throw new BudgetExceededError(`evaluation exceeded the step budget (${this.limits.maxSteps} steps)`);
    }
  }

  /** Starts a new (rule, resource) evaluation with the full budget. */
  reset(): void {
    this.steps = 0;
  }

  checkDepth(depth: number): void {
    if (depth > this.limits.maxDepth) {
      throw new BudgetExceededError(`evaluation exceeded the nesting depth limit (${this.limits.maxDepth})`);
    }
  }
}

/** A budget that never runs out (load-time evaluation of pre-processors in tests, etc.). */
export function unlimitedBudget(): Budget {
  return new Budget({ maxSteps: Number.POSITIVE_INFINITY, maxDepth: 10_000 });
}
