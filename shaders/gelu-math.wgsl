// Exact GELU, 0.5·x·(1 + erf(x/√2)), and its derivative. WGSL has no erf:
// Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7.
// QuickGELU, x·σ(1.702x) (CLIP's MLP activation), and its derivative.

fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

fn gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));
}

// d/dx GELU = Φ(x) + x·φ(x)
fn gelu_grad(x: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_approx(x * 0.70710678118654752));
  let pdf = 0.39894228040143268 * exp(-0.5 * x * x);
  return cdf + x * pdf;
}

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

fn quick_gelu(x: f32) -> f32 {
  return x * sigmoid(1.702 * x);
}

// d/dx x·σ(ax) = σ(ax) + a·x·σ(ax)·(1 − σ(ax))
fn quick_gelu_grad(x: f32) -> f32 {
  let s = sigmoid(1.702 * x);
  return s + 1.702 * x * s * (1.0 - s);
}
