/**
 * Cheap splitting of a multi-document YAML stream at its `---` markers, so that only the documents that matter are
 * given to the (comparatively slow) YAML parser. A `---` at column 0 always starts a document in YAML, even inside a
 * block scalar, so this split agrees with the parser.
 */

export interface DocumentChunk {
  /** 0-based position of the document in the stream. */
  index: number;
  /** Offsets of the chunk (its `---` line included) in the whole text. */
  start: number;
  end: number;
  /** 1-based line of the chunk's first line. */
  startLine: number;
  text: string;
}

const MARKER = /^---(?=[ \t\r\n]|$)/;

export function splitDocuments(text: string): DocumentChunk[] {
  const chunks: DocumentChunk[] = [];
  let chunkStart = 0;
  let chunkLine = 1;
  let offset = 0;
  let line = 1;
  while (offset < text.length) {
    const nl = text.indexOf('\n', offset);
    const lineEnd = nl === -1 ? text.length : nl + 1;
    if (offset > chunkStart && text.startsWith('---', offset) && MARKER.test(text.slice(offset, Math.min(lineEnd, offset + 4)))) {
      chunks.push(makeChunk(text, chunks.length, chunkStart, offset, chunkLine));
      chunkStart = offset;
      chunkLine = line;
    }
    offset = lineEnd;
    line++;
  }
  chunks.push(makeChunk(text, chunks.length, chunkStart, text.length, chunkLine));
  return chunks;
}

function makeChunk(text: string, index: number, start: number, end: number, startLine: number): DocumentChunk {
  return { index, start, end, startLine, text: text.slice(start, end) };
}
