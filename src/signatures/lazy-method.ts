/**
 * A method verifier whose code is loaded on its first signature. Used for methods the trust
 * configuration gives nothing to verify with (SSH without allowed signers, gitsign without a
 * trusted root): such a signature can only be denied, but it is denied by the real verifier, with
 * the same reason it always had, and the process does not carry that verifier's code (the Sigstore
 * stack for gitsign) while no such signature arrives. A load failure is an early
 * VERIFICATION_ERROR (a deny), never cached, so a later signature tries again.
 */
import type { CryptoOutcome, MethodInput, MethodVerifier } from './method.js';
import type { SignatureMethod } from './types.js';

export class LazyMethodVerifier implements MethodVerifier {
  private loading: Promise<MethodVerifier> | undefined;
  private readonly listeners: (() => void)[] = [];

  constructor(
    readonly method: SignatureMethod,
    private readonly load: () => Promise<MethodVerifier>,
  ) {}

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async verify(input: MethodInput): Promise<CryptoOutcome> {
    let verifier: MethodVerifier;
    try {
      this.loading ??= this.load().then((v) => {
        if (v.method !== this.method) throw new Error(`loaded a ${v.method} verifier for ${this.method} signatures`);
        for (const listener of this.listeners) v.onChange?.(listener);
        return v;
      });
      verifier = await this.loading;
    } catch (err) {
      this.loading = undefined;
      return {
        method: this.method,
        early: { code: 'VERIFICATION_ERROR', message: `the ${this.method} verifier could not be loaded: ${err instanceof Error ? err.message : String(err)}` },
        transient: true,
      };
    }
    return verifier.verify(input);
  }
}
