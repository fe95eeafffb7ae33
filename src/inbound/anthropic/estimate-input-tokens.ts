import type { AnthropicBlock, CountTokensRequest } from './anthropic-wire.js';

/** Characters per token: about what common tokenizers give for English prose and code. */
const CHARACTERS_PER_TOKEN = 4;

/** Tokens per image: Anthropic's count for an image near its 1.15-megapixel cap (w × h / 750). */
const IMAGE_TOKENS = 1_600;

/**
 * The documented estimate of a prompt's tokens, for `count_tokens` and the `input_tokens` of
 * `message_start` (before the upstream's count, which `message_delta` then carries): the
 * characters of the system prompt, of every text, tool call input (as JSON) and tool result
 * (thinking blocks are not sent upstream), and of the tool definitions (as JSON), divided by 4 and rounded up, plus 1,600 per
 * image. No upstream is asked: the gateway cannot know every model's tokenizer, and a count that
 * grows with the prompt is what clients use it for (Claude Code decides when to compact with it).
 */
export function estimateInputTokens(request: CountTokensRequest): number {
  const count = { characters: 0, images: 0 };
  const { system, tools } = request;
  if (typeof system === 'string') count.characters += system.length;
  else if (Array.isArray(system)) countBlocks(system, count);
  for (const message of request.messages) {
    if (typeof message.content === 'string') count.characters += message.content.length;
    else countBlocks(message.content, count);
  }
  if (tools != null && tools.length > 0) count.characters += JSON.stringify(tools).length;
  return tokensOfCharacters(count.characters) + count.images * IMAGE_TOKENS;
}

/** The estimate's tokens for so many characters (also of an output the upstream did not count). */
export function tokensOfCharacters(characters: number): number {
  return Math.ceil(characters / CHARACTERS_PER_TOKEN);
}

function countBlocks(
  blocks: readonly AnthropicBlock[],
  count: { characters: number; images: number },
): void {
  for (const block of blocks) {
    // A tool result's blocks are not checked by the schema: anything may be there.
    switch (block?.type) {
      case 'text':
        if (typeof block.text === 'string') count.characters += block.text.length;
        break;
      case 'image':
        count.images += 1;
        break;
      case 'tool_use':
        count.characters += JSON.stringify(block.input ?? {}).length;
        break;
      case 'tool_result':
        if (typeof block.content === 'string') count.characters += block.content.length;
        else if (Array.isArray(block.content)) countBlocks(block.content, count);
        break;
    }
  }
}
