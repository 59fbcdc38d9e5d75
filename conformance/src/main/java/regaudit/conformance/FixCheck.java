package regaudit.conformance;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L1Regularization;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Does DL4J honour a regularization set after the network was built, in training and not only in
 * its score? One gradient step with and without a generated fix.
 *
 * <p>Usage: {@code FixCheck MODEL FIX_CLASS LAYER OUT.json}. MODEL is imported twice with
 * enforceTrainingConfig=true (it needs its loss layer to be trained); every layer of both gets a
 * plain SGD updater before either network has an updater, and then the updaters are created, so
 * that the fix comes after the network and its updater exist. FIX_CLASS's {@code apply} runs on
 * the second network only; both then take one {@code fit} step on the same random batch. Their
 * data gradients are the same, so on LAYER's weights the two steps must differ by exactly
 * {@code -lr * (g_fixed - g_plain)}, g being the regularization's gradient at the stored weights
 * ({@code l1 * sign(w) + c * w}), and every other parameter must come out the same. A clone of
 * the fixed network, and the network saved and restored, must hold the fix too.
 */
public final class FixCheck {
    private static final double LR = 0.5;
    private static final int BATCH = 8;

    private FixCheck() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: FixCheck MODEL FIX_CLASS LAYER OUT.json");
            System.exit(4);
        }
        String file = args[0];
        String layer = args[2];
        MultiLayerNetwork plain = prepare(file);
        MultiLayerNetwork fixed = prepare(file);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("file", file);
        out.put("layer", layer);
        out.put("learning_rate", LR);
        out.put("batch", BATCH);
        List<Regularization> before = weights(fixed, layer);
        Map<String, Object> applied = Harness.fix(args[1], fixed, fixed::getLayers,
                fixed::calcRegularizationScore);
        out.put("fix", applied);
        List<Regularization> after = weights(fixed, layer);
        out.put("before", Harness.regularizations(before));
        out.put("after", Harness.regularizations(after));

        INDArray w = fixed.getLayer(layer).getParam("W").dup();
        INDArray expected = gradient(after, w).subi(gradient(before, w)).muli(-LR);
        long nIn = ((FeedForwardLayer) plain.getLayer(0).conf().getLayer()).getNIn();
        Nd4j.getRandom().setSeed(20240801);
        INDArray x = Nd4j.rand(DataType.FLOAT, BATCH, nIn);
        INDArray y = Nd4j.rand(DataType.FLOAT, plain.output(x).shape());
        Nd4j.getRandom().setSeed(7); // the same dropout masks, if any
        plain.fit(x, y);
        Nd4j.getRandom().setSeed(7);
        fixed.fit(x, y);

        INDArray actual = fixed.getLayer(layer).getParam("W").sub(plain.getLayer(layer).getParam("W"));
        double scale = expected.amaxNumber().doubleValue();
        double error = actual.sub(expected).amaxNumber().doubleValue();
        out.put("max_abs_expected", scale);
        out.put("max_abs_error", error);
        double others = 0;
        for (Layer l : fixed.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                if (name.equals(layer) && p.getKey().equals("W")) {
                    continue;
                }
                INDArray other = plain.getLayer(name).getParam(p.getKey());
                others = Math.max(others, p.getValue().sub(other).amaxNumber().doubleValue());
            }
        }
        out.put("other_params_max_diff", others);
        // What a copy and a saved model hold: they start from the network's configuration.
        boolean cloned = weights(fixed.clone(), layer).equals(after);
        java.io.File saved = java.io.File.createTempFile("regaudit-fixcheck", ".zip");
        try {
            ModelSerializer.writeModel(fixed, saved, false);
            out.put("saved_keeps_it", weights(ModelSerializer.restoreMultiLayerNetwork(saved), layer)
                    .equals(after));
        } finally {
            saved.delete();
        }
        out.put("clone_keeps_it", cloned);
        out.put("ok", Boolean.TRUE.equals(applied.get("ok")) && scale > 0 && error <= 1e-4 * scale
                && others == 0 && cloned && Boolean.TRUE.equals(out.get("saved_keeps_it")));
        Files.writeString(Path.of(args[3]), new ObjectMapper().writeValueAsString(out),
                StandardCharsets.UTF_8);
    }

    /** Imported strictly, every layer's updater replaced by SGD, the updater then created. */
    static MultiLayerNetwork prepare(String file) throws Exception {
        MultiLayerNetwork net = KerasModelImport.importKerasSequentialModelAndWeights(file, true);
        if (net.getUpdater(false) != null) {
            throw new IllegalStateException("the import created the updater: SGD cannot be set");
        }
        for (Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof BaseLayer) {
                ((BaseLayer) l.conf().getLayer()).setIUpdater(new Sgd(LR));
            }
        }
        net.getUpdater(); // created now: the fix comes after it
        return net;
    }

    static List<Regularization> weights(MultiLayerNetwork net, String layer) {
        List<Regularization> list = ((BaseLayer) net.getLayer(layer).conf().getLayer()).getRegularization();
        return list == null ? new ArrayList<>() : new ArrayList<>(list);
    }

    /** d/dw of the L1/L2 terms: l1 * sign(w) + c * w (what the updater adds before SGD). */
    static INDArray gradient(List<Regularization> regs, INDArray w) {
        INDArray g = Nd4j.zeros(w.dataType(), w.shape());
        for (Regularization r : regs) {
            if (r instanceof L1Regularization) {
                g.addi(Transforms.sign(w, true).muli(((L1Regularization) r).getL1().valueAt(0, 0)));
            } else if (r instanceof L2Regularization) {
                g.addi(w.mul(((L2Regularization) r).getL2().valueAt(0, 0)));
            } else {
                throw new IllegalStateException("not an L1/L2 regularization: " + r);
            }
        }
        return g;
    }
}
