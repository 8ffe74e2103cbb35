import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/** The WCAG levels the app is held to: 2.0 A and AA, 2.1 AA and 2.2 AA. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'];

type Violation = Awaited<ReturnType<AxeBuilder['analyze']>>['violations'][number];

/** One violation per paragraph: the rule, its impact and help, then each node's selector
 *  and why it failed, so a failing test says what to fix without opening the report. */
export function describeViolations(violations: Violation[]): string {
  return violations
    .map((violation) => {
      const nodes = violation.nodes
        .map((node) => {
          const why = (node.failureSummary ?? '').replace(/\s*\n\s*/g, ' ').trim();
          return `    ${node.target.join(' >> ')}\n      ${why}`;
        })
        .join('\n');
      return `  ${violation.id} (${violation.impact}, ${violation.nodes.length} node(s)): ${violation.help}\n${nodes}`;
    })
    .join('\n');
}

/** Runs axe on the page as it is now and fails, listing every violation, unless there are none. */
export async function expectNoAxeViolations(page: Page, state: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  expect(
    results.violations,
    `axe found ${results.violations.length} rule(s) violated on ${state} (${page.url()}):\n${describeViolations(results.violations)}\n`,
  ).toEqual([]);
}
