import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ModelInfo,
} from '../../src/openai/chat-types.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../src/openai/embeddings-types.js';
import type {
  CallContext,
  ChatProvider,
  ChatStream,
  PassthroughRequest,
} from '../../src/providers/provider.js';

/** One recorded call to a fake provider. */
export interface FakeCall {
  readonly method: 'chat' | 'chatStream' | 'listModels' | 'embeddings';
  readonly request?: ChatRequest | EmbeddingsRequest;
  readonly ctx: CallContext;
}

export interface FakeProvider extends ChatProvider {
  readonly calls: FakeCall[];
}

export interface FakeProviderBehaviour {
  chat?(request: ChatRequest, ctx: CallContext): Promise<ChatCompletion>;
  chatStream?(request: ChatRequest, ctx: CallContext): Promise<ChatStream>;
  listModels?(ctx: CallContext): Promise<readonly ModelInfo[]>;
  embeddings?(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResponse>;
}

/** A completion as a provider would return it. */
export function completion(model: string, content = 'Hi there'): ChatCompletion {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

/** Content chunks, a finish chunk and the usage chunk, as providers yield them. */
export function chunks(model: string, pieces: readonly string[]): ChatCompletionChunk[] {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model } as const;
  return [
    ...pieces.map((content, index) => ({
      ...base,
      choices: [
        {
          index: 0,
          delta: index === 0 ? { role: 'assistant' as const, content } : { content },
          finish_reason: null,
        },
      ],
    })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' as const }] },
    {
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 3,
        completion_tokens: pieces.length,
        total_tokens: 3 + pieces.length,
      },
    },
  ];
}

/** A stream of fixed chunks, one batch each (as if each came in its own upstream read). */
export async function* streamOf(items: readonly ChatCompletionChunk[]): ChatStream {
  for (const chunk of items) yield [{ chunk, json: undefined }];
}

/** A provider that records its calls and answers with canned data unless told otherwise. */
export function createFakeProvider(
  id: string,
  behaviour: FakeProviderBehaviour = {},
): FakeProvider {
  const calls: FakeCall[] = [];
  return {
    id,
    calls,
    async listModels(ctx) {
      calls.push({ method: 'listModels', ctx });
      return behaviour.listModels
        ? behaviour.listModels(ctx)
        : [{ id: `${id}-model`, object: 'model', created: 1, owned_by: id }];
    },
    async chat(request, ctx) {
      calls.push({ method: 'chat', request, ctx });
      return behaviour.chat ? behaviour.chat(request, ctx) : completion(request.model);
    },
    async embeddings(request, ctx) {
      calls.push({ method: 'embeddings', request, ctx });
      if (behaviour.embeddings) return behaviour.embeddings(request, ctx);
      return {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.25, 0.5] }],
        model: request.model,
        usage: { prompt_tokens: 2, total_tokens: 2 },
      };
    },
    async chatStream(request, ctx) {
      calls.push({ method: 'chatStream', request, ctx });
      return behaviour.chatStream
        ? behaviour.chatStream(request, ctx)
        : streamOf(chunks(request.model, ['Hel', 'lo']));
    },
  };
}

/** An Ollama-like fake whose native API records what it relays, beside a Cerebras-like one. */
export interface FakeProviderPair {
  /** `[ollama, cerebras]`. */
  readonly providers: readonly FakeProvider[];
  /** The providers by id, as `buildApp` takes them. */
  readonly byId: ReadonlyMap<string, FakeProvider>;
  /** What the native API (`/ollama/api/*`) relayed. */
  readonly relayed: PassthroughRequest[];
  /** Calls reaching any provider so far, native API included. */
  calls(): number;
}

/** A fake with a native API (Ollama's `/api/*`) that records each request it relays. */
export function createFakeNativeProvider(id: string): {
  readonly provider: FakeProvider;
  readonly relayed: PassthroughRequest[];
} {
  const relayed: PassthroughRequest[] = [];
  const provider: FakeProvider = {
    ...createFakeProvider(id),
    async passthrough(request) {
      relayed.push(request);
      return { status: 200, contentType: 'application/json', body: '{}' };
    },
  };
  return { provider, relayed };
}

/** The fixture of the bad-input suites: every call that reaches a provider is counted. */
export function createFakeProviderPair(): FakeProviderPair {
  const { provider: ollama, relayed } = createFakeNativeProvider('ollama');
  const providers = [ollama, createFakeProvider('cerebras')];
  return {
    providers,
    byId: new Map(providers.map((provider) => [provider.id, provider])),
    relayed,
    calls: () => providers.reduce((sum, provider) => sum + provider.calls.length, relayed.length),
  };
}
