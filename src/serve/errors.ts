/** Errors in the OpenAI wire shape: `{"error": {"message", "type", "param", "code"}}`. Every
 * request problem the server detects becomes one of these, so clients (the `openai` package
 * included) surface a readable message instead of a parse failure. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 for a request field with the wrong type or value. */
export const badParam = (param: string, message: string): ApiError =>
  new ApiError(400, message, 'invalid_request_error', param, 'invalid_value');

export const modelNotFound = (model: string): ApiError =>
  new ApiError(404, `The model '${model}' does not exist on this server (see GET /v1/models).`, 'invalid_request_error', 'model', 'model_not_found');
