import { countRequestTokens, countTextTokens } from './tokenizer';

/** The local tokenizer (cl100k_base), loaded on first use. */
describe('local token counting', () => {
  it('counts text with cl100k_base', () => {
    expect(countTextTokens('')).toBe(0);
    expect(countTextTokens('hello world')).toBe(2);
    expect(countTextTokens('The quick brown fox jumps over the lazy dog.')).toBe(10);
  });

  it('counts a request: every message with its framing tokens', () => {
    const tokens = countRequestTokens({
      model: 'gpt-5',
      stream: false,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello world' }] }],
    });
    // "Be brief." (3) + "hello world" (2) + 3 framing tokens for the one message.
    expect(countTextTokens('Be brief.')).toBe(3);
    expect(tokens).toBe(8);
  });
});
