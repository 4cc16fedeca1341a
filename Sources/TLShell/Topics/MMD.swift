extension Topic {
    static let mmd = Topic(
        name: "mmd", title: "Discrepancy-based adaptation: MMD, multi-kernel MMD, CMD",
        text: """
          Instead of a discriminator, add to the source loss a measure of how far apart the source
          and target features of net[0:at] are. DDC uses the linear maximum mean discrepancy
          (the distance between the feature means); DAN a multi-kernel MMD whose Gaussian
          bandwidths surround the median pairwise distance; CMD compares the means and the
          central moments up to order 5. train(net, src, target=tgt, align="mmd" | "mkmmd" | "cmd",
          at=k, align_weight=w); the weight ramps up from 0 during training, so the features
          learn the labels before they are pulled together (at full weight from the start they
          can collapse to zero, where any discrepancy vanishes).

          Where: without at=, the input of the last linear layer — what the classifier reads,
          where DDC puts its adaptation layer (net[0:9] for cnn()). mnist → mnistm from scratch
          (the DANN paper's network, 6 000 + 3 000 digits, 3 epochs, SGD — train's defaults —,
          5 seeds, source only 0.72): linear MMD 0.81 there against 0.79 at the flatten, CMD
          0.81 against 0.75, and every seed gained 0.04 or more (at the flatten, linear MMD lost
          on one seed and CMD on two). With the decaying rate, schedule="dann", the flatten did
          as well or better: linear MMD and MK-MMD gained 0.12 either way, CMD 0.11 there
          against 0.08.

          The weight: linear MMD and CMD grow with the features' scale and pull hard, so their
          defaults are 0.1 and 0.3; MK-MMD's kernels are bounded and CORAL is divided by 4d², so
          theirs is 1. The same runs aligned at the flatten: linear MMD at weight 1 ended 0.59,
          at 0.1 0.78; CMD 0.64 at 1, 0.77 at 0.3. Fine-tuning a source-trained CNN with Adam at
          the default layer: linear MMD 0.66 at 0.1, 0.59 at 1; CMD 0.73 at 1, 0.71 at 0.3,
          0.62 at 0.1.
          CMD assumes features in a known interval [a, b]; ReLU features have none, so tl takes
          the batch's range, but never less than a quarter of the widest range seen in the run:
          each moment is divided by the range to its order, and when the interval followed the
          features down, shrinking them made CMD's pull grow until they reached zero — on svhn
          → mnist from scratch, where the labels come slowly, every seed ended at chance (0.10).
          With the floor, CMD at 0.3 ends there at 0.65 ± 0.04 with Adam and 0.47 ± 0.17 with
          SGD (source only 0.68, 0.63); at weight 1 it still collapses: train warns when the
          source accuracy ends at chance — lower align_weight.
          """,
        formula: """
          linear MMD:  ‖ mean f(x_s) − mean f(x_t) ‖²
          MK-MMD²:     E k(s,s′) + E k(t,t′) − 2 E k(s,t),   k = Σ_i exp(−‖a−b‖² / σ_i²)
          CMD:         ‖E s − E t‖/(b−a) + Σ_{k=2..5} ‖c_k(s) − c_k(t)‖/(b−a)^k
                       b − a = max(the batch's range, ¼ × the widest range seen so far)
          """,
        example: """
          seed(1)
          src = digits(400)
          tgt = unlabel(digits(400, style="mnistm", seed=2))
          net = cnn()
          train(net, src, epochs=1, optimizer="adam", lr=0.001, quiet=true);
          train(net, src, target=tgt, align="mkmmd", epochs=1, optimizer="adam", lr=0.001, quiet=true)
          round(evaluate(net, digits(200, style="mnistm", seed=3)).accuracy, 2)
          """)
}
