extension Topic {
    static let whenToFinetune = Topic(
        name: "when-to-finetune", title: "When to fine-tune: target size × similarity to the source",
        text: """
          How much of a pretrained network to reuse depends on two things: how much labelled
          target data there is, and how close the target is to the source.
          - small and similar: keep the features, train only a new last layer (freeze the rest);
            fine-tuning everything would overfit the few labels.
          - large and similar: fine-tune the whole network; little risk, some gain.
          - small and different: the top layers are source-specific; reuse only the early,
            generic layers (layer transfer) or a linear classifier on mid-level features, and
            regularise toward the source (conservative training).
          - large and different: train largely anew, starting from the pretrained weights, which
            rarely hurts and speeds up training.
          With unlabelled target data, domain adaptation (:help dann, :help mmd) uses it too.
          On a real architecture: net = resnet(18), a new head with net.fc = linear(512, k),
          freeze(net) then unfreeze(net.fc) for the first case (scripts/lecture/15-resnet.tl);
          a torchvision checkpoint converted to safetensors loads with load(file, into=net).
          """,
        formula: "",
        example: """
          seed(1)
          source = digits(600)
          net = cnn()
          train(net, source, epochs=2, optimizer="adam", lr=0.001, quiet=true);
          few = take(digits(300, style="usps", seed=2), 3, per_class=true)
          head_only = clone(net)
          freeze(head_only[0:9])
          train(head_only, few, epochs=10, batch=10, quiet=true);
          everything = clone(net)
          train(everything, few, epochs=10, batch=10, quiet=true);
          test = digits(300, style="usps", seed=3)
          print("last layer only", round(evaluate(head_only, test).accuracy, 2), " all layers", round(evaluate(everything, test).accuracy, 2))
          """)
}
