/**
 * Draws I420 pictures on a tile's canvas. The preferred path is WebGL
 * (WebGL2 when the webview has it, else WebGL1): the three planes are
 * uploaded as single-channel textures and a fragment shader does the
 * BT.601 limited-range YUV→RGB conversion, so the page never touches a
 * pixel in JavaScript. When WebGL is unavailable, or its context is lost,
 * the 2D-canvas path converts in JavaScript (`i420ToRgba`) instead.
 *
 * The pure parts (which path to take, when textures must be reallocated)
 * are exported for tests; the WebGL calls themselves need a real webview.
 */

/** One I420 picture: sizes and its three planes. */
export interface Frame {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

/** Which way a tile is drawn. */
export type RendererKind = "webgl2" | "webgl" | "2d";

/** What the page asked for: the best available, or the 2D path only
 * (for comparison in the benchmark). */
export type RendererPreference = "auto" | "2d";

/** What this canvas can do, as far as the choice is concerned. */
export interface Capabilities {
  /** A WebGL2 context could be created. */
  webgl2: boolean;
  /** A WebGL1 context could be created. */
  webgl: boolean;
  /** A WebGL context on this tile was lost before. */
  contextLost: boolean;
}

/**
 * The path to take. A lost context is not retried on the same tile: the
 * GPU process (or llvmpipe) that lost it may lose it again, and a tile
 * flickering between paths is worse than a slower steady one.
 */
export function chooseRenderer(preference: RendererPreference, caps: Capabilities): RendererKind {
  if (preference === "2d" || caps.contextLost) return "2d";
  if (caps.webgl2) return "webgl2";
  if (caps.webgl) return "webgl";
  return "2d";
}

/** Texture sizes of the planes: luma, then each chroma plane. */
export function planeSizes(width: number, height: number): { luma: [number, number]; chroma: [number, number] } {
  return { luma: [width, height], chroma: [Math.ceil(width / 2), Math.ceil(height / 2)] };
}

/**
 * Remembers the size the textures were allocated at, so a picture of the
 * same size is uploaded into them in place (`texSubImage2D`) and only a
 * size change reallocates (`texImage2D`).
 */
export class TextureSizes {
  private width = 0;
  private height = 0;
  /** Reallocations so far (diagnostics and tests). */
  allocations = 0;

  /** True when the textures must be (re)allocated for this size. */
  needsAllocation(width: number, height: number): boolean {
    if (width === this.width && height === this.height) return false;
    this.width = width;
    this.height = height;
    this.allocations += 1;
    return true;
  }

  /** Forgets the size (the context and its textures are gone). */
  reset(): void {
    this.width = 0;
    this.height = 0;
  }
}

/** Something that draws pictures on one canvas. */
export interface Renderer {
  readonly kind: RendererKind;
  /** Draws `frame`; false when the renderer can no longer draw (context lost). */
  draw(frame: Frame): boolean;
}

const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : x);

/** I420 (BT.601, limited range) to RGBA, into `out` (width*height*4 bytes). */
export function i420ToRgba(p: Frame, out: Uint8ClampedArray): void {
  const cw = Math.ceil(p.width / 2);
  for (let row = 0; row < p.height; row++) {
    const crow = (row >> 1) * cw;
    for (let col = 0; col < p.width; col++) {
      const c = 1.164 * ((p.y[row * p.width + col] ?? 0) - 16);
      const ci = crow + (col >> 1);
      const d = (p.u[ci] ?? 128) - 128;
      const e = (p.v[ci] ?? 128) - 128;
      const o = (row * p.width + col) * 4;
      out[o] = clamp(c + 1.596 * e);
      out[o + 1] = clamp(c - 0.392 * d - 0.813 * e);
      out[o + 2] = clamp(c + 2.017 * d);
      out[o + 3] = 255;
    }
  }
}

/** The 2D-canvas path: converts in JavaScript, reusing its ImageData. */
export class CanvasRenderer implements Renderer {
  readonly kind = "2d" as const;
  private image: ImageData | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  draw(frame: Frame): boolean {
    const { canvas } = this;
    if (canvas.width !== frame.width) canvas.width = frame.width;
    if (canvas.height !== frame.height) canvas.height = frame.height;
    const ctx = canvas.getContext("2d");
    if (ctx === null) return false;
    if (this.image === null || this.image.width !== frame.width || this.image.height !== frame.height) {
      this.image = ctx.createImageData(frame.width, frame.height);
    }
    i420ToRgba(frame, this.image.data);
    ctx.putImageData(this.image, 0, 0);
    return true;
  }
}

const VERTEX_SHADER = `
attribute vec2 a_pos;
varying vec2 v_uv;
void main() {
  // Texture row 0 is the picture's top row.
  v_uv = vec2(a_pos.x * 0.5 + 0.5, 0.5 - a_pos.y * 0.5);
  gl_Position = vec4(a_pos, 0.0, 1.0);
}`;

// BT.601 limited range: Y in [16, 235], Cb/Cr in [16, 240] around 128.
const FRAGMENT_SHADER = `
precision mediump float;
varying vec2 v_uv;
uniform sampler2D u_y;
uniform sampler2D u_u;
uniform sampler2D u_v;
void main() {
  float y = 1.1643836 * (texture2D(u_y, v_uv).r - 0.0627451);
  float u = texture2D(u_u, v_uv).r - 0.5019608;
  float v = texture2D(u_v, v_uv).r - 0.5019608;
  gl_FragColor = vec4(y + 1.5960268 * v, y - 0.3917623 * u - 0.8129676 * v, y + 2.0172321 * u, 1.0);
}`;

type GL = WebGLRenderingContext | WebGL2RenderingContext;

const CONTEXT_OPTIONS: WebGLContextAttributes = {
  alpha: false,
  antialias: false,
  depth: false,
  stencil: false,
  premultipliedAlpha: false,
  preserveDrawingBuffer: false,
  powerPreference: "low-power",
};

/** The WebGL path: three LUMINANCE textures and a conversion shader. */
export class GlRenderer implements Renderer {
  private readonly textures: WebGLTexture[];
  private readonly sizes = new TextureSizes();
  private lost = false;

  private constructor(
    readonly kind: "webgl2" | "webgl",
    private readonly canvas: HTMLCanvasElement,
    private readonly gl: GL,
    textures: WebGLTexture[],
  ) {
    this.textures = textures;
    canvas.addEventListener("webglcontextlost", (event) => {
      // Not prevented: the tile moves to the 2D path (on a new canvas)
      // rather than waiting for a restore that may never come.
      void event;
      this.lost = true;
      this.sizes.reset();
    });
  }

  /** A WebGL renderer on `canvas` of `kind`, or null when the context or
   * its shaders cannot be set up (the caller falls back to 2D). */
  static create(canvas: HTMLCanvasElement, kind: "webgl2" | "webgl"): GlRenderer | null {
    const gl = canvas.getContext(kind, CONTEXT_OPTIONS) as GL | null;
    if (gl === null) return null;
    const program = link(gl);
    if (program === null) return null;
    gl.useProgram(program);
    const quad = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const pos = gl.getAttribLocation(program, "a_pos");
    gl.enableVertexAttribArray(pos);
    gl.vertexAttribPointer(pos, 2, gl.FLOAT, false, 0, 0);
    // Plane rows are tightly packed; odd widths are not 4-byte aligned.
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    const textures: WebGLTexture[] = [];
    ["u_y", "u_u", "u_v"].forEach((name, unit) => {
      const texture = gl.createTexture();
      if (texture === null) return;
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      // Clamp and no mipmaps: required for non-power-of-two sizes in WebGL1.
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      gl.uniform1i(gl.getUniformLocation(program, name), unit);
      textures.push(texture);
    });
    if (textures.length !== 3) return null;
    return new GlRenderer(kind, canvas, gl, textures);
  }

  draw(frame: Frame): boolean {
    const { gl, canvas } = this;
    if (this.lost || gl.isContextLost()) return false;
    const { luma, chroma } = planeSizes(frame.width, frame.height);
    const allocate = this.sizes.needsAllocation(frame.width, frame.height);
    if (allocate) {
      canvas.width = frame.width;
      canvas.height = frame.height;
      gl.viewport(0, 0, frame.width, frame.height);
    }
    const planes: [Uint8Array, [number, number]][] = [
      [frame.y, luma],
      [frame.u, chroma],
      [frame.v, chroma],
    ];
    planes.forEach(([data, [w, h]], unit) => {
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, this.textures[unit] ?? null);
      if (allocate) {
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.LUMINANCE, w, h, 0, gl.LUMINANCE, gl.UNSIGNED_BYTE, data);
      } else {
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, w, h, gl.LUMINANCE, gl.UNSIGNED_BYTE, data);
      }
    });
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    return true;
  }
}

function compile(gl: GL, type: number, source: string): WebGLShader | null {
  const shader = gl.createShader(type);
  if (shader === null) return null;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  return gl.getShaderParameter(shader, gl.COMPILE_STATUS) === true ? shader : null;
}

function link(gl: GL): WebGLProgram | null {
  const vs = compile(gl, gl.VERTEX_SHADER, VERTEX_SHADER);
  const fs = compile(gl, gl.FRAGMENT_SHADER, FRAGMENT_SHADER);
  const program = gl.createProgram();
  if (vs === null || fs === null || program === null) return null;
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  gl.linkProgram(program);
  return gl.getProgramParameter(program, gl.LINK_STATUS) === true ? program : null;
}

/**
 * A renderer for `canvas`: WebGL2, then WebGL1, then 2D, as
 * [`chooseRenderer`] decides. A canvas that got a WebGL context cannot
 * give a 2D one, so a caller falling back after a loss passes a fresh
 * canvas with `contextLost` set.
 */
export function createRenderer(canvas: HTMLCanvasElement, preference: RendererPreference, contextLost: boolean): Renderer {
  // Probe lazily in preference order: creating a context is the test.
  const first = chooseRenderer(preference, { webgl2: true, webgl: true, contextLost });
  if (first !== "2d") {
    const gl2 = GlRenderer.create(canvas, "webgl2");
    if (gl2 !== null) return gl2;
    const kind = chooseRenderer(preference, { webgl2: false, webgl: true, contextLost });
    if (kind === "webgl") {
      const gl1 = GlRenderer.create(canvas, "webgl");
      if (gl1 !== null) return gl1;
    }
  }
  return new CanvasRenderer(canvas);
}
