/** Kubernetes field paths (`spec.containers[0].image`, `metadata.labels[app]`), built lazily. */
export class FieldPath {
  private constructor(
    private readonly parent: FieldPath | undefined,
    private readonly segment: string,
    private readonly form: 'root' | 'child' | 'index',
  ) {}

  static root(name = ''): FieldPath {
    return new FieldPath(undefined, name, 'root');
  }

  child(name: string): FieldPath {
    return new FieldPath(this, name, 'child');
  }

  index(i: number): FieldPath {
    return new FieldPath(this, `[${i}]`, 'index');
  }

  key(k: string): FieldPath {
    return new FieldPath(this, `[${k}]`, 'index');
  }

  toString(): string {
    return FieldPath.render(this);
  }

  private static render(leaf: FieldPath): string {
    const parts: FieldPath[] = [];
    for (let p: FieldPath | undefined = leaf; p; p = p.parent) parts.push(p);
    let out = '';
    for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i] as FieldPath;
      if (p.form === 'child') out += out === '' ? p.segment : `.${p.segment}`;
      else out += p.segment;
    }
    return out;
  }
}
