package regaudit.conformance;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.L1Regularization;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Asks DL4J's Keras importer about each model file, once with enforceTrainingConfig=true and
 * once with false, and writes what it did as one JSON object per line.
 *
 * <p>Usage: {@code java -cp ... regaudit.conformance.Harness OUT.jsonl LIST.txt}, where each line
 * of LIST is {@code strict} or {@code lenient}, a tab, and a model path; optionally a tab and the
 * name of a class regaudit generated ({@code regaudit fix}) whose {@code apply} is then called on
 * the imported network, which is described again under {@code "fixed"}. Each line of OUT is
 * written and flushed as soon as that import ends, so a caller can tell which import a crashed
 * JVM was on and go on from there.
 */
public final class Harness {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Harness() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: Harness OUT.jsonl LIST.txt");
            System.exit(4);
        }
        List<String> jobs = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
        Nd4j.create(1); // load the natives now: their log lines are no file's
        WarnCapture.drain();
        try (BufferedWriter out = Files.newBufferedWriter(Path.of(args[0]), StandardCharsets.UTF_8)) {
            for (String job : jobs) {
                if (job.isBlank()) {
                    continue;
                }
                String[] parts = job.split("\t", 3);
                out.write(JSON.writeValueAsString(judge(parts[1], parts[0].equals("strict"),
                        parts.length > 2 ? parts[2] : null)));
                out.newLine();
                out.flush();
            }
        }
    }

    /** One import of one file in one mode, then the fix {@code fixClass} if one is named. */
    static Map<String, Object> judge(String file, boolean enforce, String fixClass) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("file", file);
        record.put("enforce_training_config", enforce);
        String root = rootClass(file);
        boolean configOnly = file.toLowerCase().endsWith(".json");
        boolean sequential = "Sequential".equals(root);
        String api = configOnly
                ? (sequential ? "importKerasSequentialConfiguration" : "importKerasModelConfiguration")
                : (sequential ? "importKerasSequentialModelAndWeights" : "importKerasModelAndWeights");
        record.put("root_class", root);
        record.put("api", api);
        WarnCapture.drain();
        long start = System.nanoTime();
        try {
            if (configOnly && sequential) {
                MultiLayerConfiguration conf = KerasModelImport.importKerasSequentialConfiguration(file, enforce);
                record.put("layers", describeConfs(conf.getConfs()));
            } else if (configOnly) {
                ComputationGraphConfiguration conf = KerasModelImport.importKerasModelConfiguration(file, enforce);
                record.put("layers", describeVertices(conf.getVertices()));
            } else if (sequential) {
                MultiLayerNetwork net = KerasModelImport.importKerasSequentialModelAndWeights(file, enforce);
                record.put("layers", describeRuntime(net.getLayers()));
                record.put("score", net.calcRegularizationScore(true));
                if (fixClass != null) {
                    record.put("fixed", fix(fixClass, net, net::getLayers, net::calcRegularizationScore));
                }
            } else {
                ComputationGraph graph = KerasModelImport.importKerasModelAndWeights(file, enforce);
                record.put("layers", describeRuntime(graph.getLayers()));
                record.put("score", graph.calcRegularizationScore(true));
                if (fixClass != null) {
                    record.put("fixed", fix(fixClass, graph, graph::getLayers, graph::calcRegularizationScore));
                }
            }
            record.put("ok", true);
        } catch (Throwable t) { // every failure is an answer, OutOfMemoryError included
            record.put("ok", false);
            record.put("exception", describe(t));
        }
        record.put("seconds", (System.nanoTime() - start) / 1e9);
        record.put("warnings", WarnCapture.drain());
        return record;
    }

    /**
     * Calls {@code fixClass.apply(network)} (a class {@code regaudit fix} wrote), then describes the
     * layers and the score again; an exception from the fix (a layer it did not find) is the
     * answer instead.
     */
    static Map<String, Object> fix(String fixClass, Object network,
            java.util.function.Supplier<org.deeplearning4j.nn.api.Layer[]> layers,
            java.util.function.Function<Boolean, Double> score) {
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            java.lang.reflect.Method apply = Class.forName(fixClass).getDeclaredMethod("apply", network.getClass());
            apply.setAccessible(true); // the generated class is package-private
            apply.invoke(null, network);
            out.put("ok", true);
            out.put("layers", describeRuntime(layers.get()));
            out.put("score", score.apply(true));
        } catch (java.lang.reflect.InvocationTargetException e) {
            out.put("ok", false);
            out.put("exception", describe(e.getCause()));
        } catch (ReflectiveOperationException e) {
            out.put("ok", false);
            out.put("exception", describe(e));
        }
        return out;
    }

    /** The root model class as the file states it (DL4J's own HDF5 reader), or null. */
    static String rootClass(String file) {
        try {
            String json;
            if (file.toLowerCase().endsWith(".json")) {
                json = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            } else if (!isHdf5(file)) {
                return null; // opening it with HDF5 is left to the import itself
            } else {
                try (Hdf5Archive archive = new Hdf5Archive(file)) {
                    if (!archive.hasAttribute("model_config")) {
                        return null;
                    }
                    json = archive.readAttributeAsJson("model_config");
                }
            }
            Object name = JSON.readValue(json, Map.class).get("class_name");
            return name instanceof String ? (String) name : null;
        } catch (Throwable t) { // not HDF5, not JSON: the import itself will say what is wrong
            WarnCapture.drain();
            return null;
        }
    }

    /** HDF5's signature at offset 0, 512, 1024, ... (a user block may precede it). */
    static boolean isHdf5(String file) throws IOException {
        byte[] signature = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
        try (java.io.RandomAccessFile in = new java.io.RandomAccessFile(file, "r")) {
            byte[] head = new byte[8];
            for (long offset = 0; offset + 8 <= in.length(); offset = offset == 0 ? 512 : offset * 2) {
                in.seek(offset);
                in.readFully(head);
                if (java.util.Arrays.equals(head, signature)) {
                    return true;
                }
            }
        }
        return false;
    }

    static List<Map<String, Object>> describeRuntime(org.deeplearning4j.nn.api.Layer[] layers) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (org.deeplearning4j.nn.api.Layer layer : layers) {
            Layer conf = layer.conf().getLayer();
            Map<String, Object> entry = describe(conf);
            Map<String, Object> params = new LinkedHashMap<>();
            for (Map.Entry<String, INDArray> p : layer.paramTable().entrySet()) {
                INDArray value = p.getValue();
                Map<String, Object> param = new LinkedHashMap<>();
                param.put("count", value.length());
                param.put("sum_abs", value.norm1Number().doubleValue());
                double norm2 = value.norm2Number().doubleValue();
                param.put("sum_sq", norm2 * norm2);
                param.put("regularization", regularizations(conf.getRegularizationByParam(p.getKey())));
                params.put(p.getKey(), param);
            }
            entry.put("params", params);
            entry.put("score", layer.calcRegularizationScore(true));
            out.add(entry);
        }
        return out;
    }

    static List<Map<String, Object>> describeConfs(List<NeuralNetConfiguration> confs) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (NeuralNetConfiguration conf : confs) {
            out.add(describe(conf.getLayer()));
        }
        return out;
    }

    static List<Map<String, Object>> describeVertices(Map<String, GraphVertex> vertices) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (GraphVertex vertex : vertices.values()) {
            if (vertex instanceof LayerVertex) {
                out.add(describe(((LayerVertex) vertex).getLayerConf().getLayer()));
            }
        }
        return out;
    }

    /** A layer configuration: name, class, regularization on weights and biases, updater, and
     * the layers a wrapper holds. */
    static Map<String, Object> describe(Layer conf) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", conf.getLayerName());
        entry.put("class", conf.getClass().getSimpleName());
        if (conf instanceof BaseLayer) {
            BaseLayer base = (BaseLayer) conf;
            entry.put("weights", regularizations(base.getRegularization()));
            entry.put("biases", regularizations(base.getRegularizationBias()));
            entry.put("updater", updater(base.getIUpdater()));
        }
        List<Map<String, Object>> inner = new ArrayList<>();
        if (conf instanceof Bidirectional) {
            inner.add(role("forward", describe(((Bidirectional) conf).getFwd())));
            inner.add(role("backward", describe(((Bidirectional) conf).getBwd())));
        } else if (conf instanceof BaseWrapperLayer) {
            inner.add(role("underlying", describe(((BaseWrapperLayer) conf).getUnderlying())));
        } else if (conf instanceof FrozenLayer) {
            inner.add(role("underlying", describe(((FrozenLayer) conf).getLayer())));
        }
        if (!inner.isEmpty()) {
            entry.put("inner", inner);
        }
        return entry;
    }

    static Map<String, Object> role(String role, Map<String, Object> entry) {
        entry.put("role", role);
        return entry;
    }

    static List<Map<String, Object>> regularizations(List<Regularization> list) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (list == null) {
            return out;
        }
        for (Regularization r : list) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("class", r.getClass().getSimpleName());
            if (r instanceof L1Regularization) {
                item.put("coefficient", ((L1Regularization) r).getL1().valueAt(0, 0));
            } else if (r instanceof L2Regularization) {
                item.put("coefficient", ((L2Regularization) r).getL2().valueAt(0, 0));
            } else if (r instanceof WeightDecay) {
                item.put("coefficient", ((WeightDecay) r).getCoeff().valueAt(0, 0));
                item.put("apply_lr", ((WeightDecay) r).isApplyLR());
            }
            out.add(item);
        }
        return out;
    }

    static Map<String, Object> updater(IUpdater updater) {
        if (updater == null) {
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("class", updater.getClass().getSimpleName());
        out.put("settings", updater.toString());
        return out;
    }

    /** An exception, its causes, and where in the importer it was thrown. */
    static Map<String, Object> describe(Throwable t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("class", t.getClass().getName());
        out.put("message", t.getMessage());
        List<Map<String, String>> causes = new ArrayList<>();
        for (Throwable c = t.getCause(); c != null && causes.size() < 5; c = c.getCause()) {
            Map<String, String> cause = new LinkedHashMap<>();
            cause.put("class", c.getClass().getName());
            cause.put("message", c.getMessage());
            causes.add(cause);
        }
        out.put("causes", causes);
        List<String> at = new ArrayList<>();
        for (StackTraceElement frame : t.getStackTrace()) {
            if (frame.getClassName().startsWith("org.deeplearning4j") && at.size() < 3) {
                at.add(frame.getClassName().replaceFirst(".*\\.", "") + "." + frame.getMethodName()
                        + ":" + frame.getLineNumber());
            }
        }
        out.put("at", at);
        return out;
    }
}
