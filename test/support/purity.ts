// What a TypeScript file depends on, read with the TypeScript compiler's own parser (a regex
// misses an import wrapped over several lines, a re-export, or a dynamic import): the module
// specifiers it imports or re-exports, and whether it reads the environment or the clock.
import ts from 'typescript'

export interface ModuleFacts {
  /** Every module specifier: static imports, re-exports, `import()` and `require()`. */
  imports: string[]
  /** Those that run the module: all but `import type` and `export type` (see typeOnly). */
  valueImports: string[]
  /** Where it reads `process` (its env, argv, cwd…), as `line: text`. */
  processReads: string[]
  /** Where it reads the clock (`Date.now()`, `new Date()` with no argument, `performance.now()`). */
  clockReads: string[]
}

export function moduleFacts (fileName: string, source: string): ModuleFacts {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const facts: ModuleFacts = { imports: [], valueImports: [], processReads: [], clockReads: [] }
  const add = (spec: string, typeOnly = false): void => {
    facts.imports.push(spec)
    if (!typeOnly) facts.valueImports.push(spec)
  }
  const where = (node: ts.Node): string => `${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText()}`
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, typeOnly(node))
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node.moduleReference.expression.text, node.isTypeOnly)
    } else if (ts.isCallExpression(node)) {
      const [first] = node.arguments
      const dynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')
      if (dynamic) add(first !== undefined && ts.isStringLiteralLike(first) ? first.text : `<computed: ${where(node)}>`)
      if (ts.isPropertyAccessExpression(node.expression) && ts.isIdentifier(node.expression.expression) &&
        ((node.expression.expression.text === 'Date' && node.expression.name.text === 'now') ||
          (node.expression.expression.text === 'performance' && node.expression.name.text === 'now'))) facts.clockReads.push(where(node))
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date' && (node.arguments?.length ?? 0) === 0) {
      facts.clockReads.push(where(node))
    } else if (ts.isIdentifier(node) && node.text === 'process' && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node)) {
      facts.processReads.push(where(node.parent))
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return facts
}

/**
 * Whether a declaration brings in types only, so nothing of the module runs. Under
 * `verbatimModuleSyntax` (tsconfig.json) only `import type` and `export type` are erased:
 * `import { type A }` is emitted as `import {} from`, which still loads and runs the module.
 */
function typeOnly (node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) return node.isTypeOnly
  return node.importClause?.isTypeOnly === true
}
