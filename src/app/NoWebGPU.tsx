export function NoWebGPU({ message }: { message: string }) {
  return (
    <section role="alert" className="no-webgpu" data-testid="no-webgpu">
      <h2>WebGPU is not available</h2>
      <p>{message}</p>
      <p>
        The playground trains the model on your GPU through WebGPU, so it cannot run in this browser. Check{' '}
        <code>chrome://gpu</code> for “WebGPU: Hardware accelerated”.
      </p>
    </section>
  );
}
