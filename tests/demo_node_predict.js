// Run an ONNX model with onnxruntime-web in Node.js, for tests/test_demo.py.
//
// node demo_node_predict.js PACKAGE MODEL INPUT OUTPUT N SIDE
//   PACKAGE  the onnxruntime-web folder (node_modules/onnxruntime-web)
//   INPUT    N x SIDE x SIDE float32 canvases, little-endian, row by row
//   OUTPUT   written: every output of the model, float32, in the order printed on stdout
// Prints one JSON line: [{"name", "dims"}, ...].
"use strict";
const fs = require("fs");

const [packageDir, model, input, output, n, side] = process.argv.slice(2);
const ort = require(packageDir);
ort.env.wasm.numThreads = 1;

(async () => {
  const session = await ort.InferenceSession.create(model);
  const bytes = fs.readFileSync(input);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const feeds = { image: new ort.Tensor("float32", data, [Number(n), Number(side), Number(side), 1]) };
  const results = await session.run(feeds);
  const parts = session.outputNames.map((name) => Buffer.from(results[name].data.buffer));
  fs.writeFileSync(output, Buffer.concat(parts));
  console.log(JSON.stringify(session.outputNames.map((name) => ({ name, dims: results[name].dims }))));
})();
